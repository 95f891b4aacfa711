"""SMS and e-mail channels against fake SMS gateways and a real SMTP server, all on loopback.

Needs no Kafka or PostgreSQL: the gateways are FastAPI apps served by uvicorn in the test loop
(ports 18211-18212; 18218 and 18219 are left closed on purpose), the SMTP server is aiosmtpd
(port 18225) with a handler that records envelopes and refuses chosen recipients.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage

import httpx
import pytest
import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import FastAPI

from services.notifier.adapters.email import DEFAULT_SUBJECT, EmailChannel
from services.notifier.adapters.http_client import http_client
from services.notifier.adapters.sms import (
    SMS_MAX_CHARS,
    GenericSmsChannel,
    ThaiBulkSmsChannel,
    compose_sms_text,
)
from services.notifier.domain.model import (
    Channel,
    Delivery,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from tests.fakes.sms_gateway import (
    FakeSmsGateway,
    create_generic_sms_app,
    create_thaibulksms_app,
)
from tests.support import shifted_port

pytestmark = pytest.mark.integration

GENERIC_PORT = shifted_port(18211)
THAIBULKSMS_PORT = shifted_port(18212)
CLOSED_HTTP_PORT = shifted_port(18218)  # nothing listens here
SMTP_PORT = shifted_port(18225)
CLOSED_SMTP_PORT = shifted_port(18219)  # nothing listens here

API_KEY = "generic-key"
TBS_KEY = "tbs-key"
TBS_SECRET = "tbs-secret"
SENDER = "FastTrack"
MAIL_FROM = "Fast Track <noreply@fasttrack.example>"

LINK = "https://fasttrack.example/r/ref-7f3a"
# PDPA-minimal Thai alert text, long enough to need cutting (well over 201 characters).
LONG_THAI_TEXT = (
    "แจ้งเตือนโรคหลอดเลือดสมอง ผู้ป่วย HN 6612345 อายุ 67 ปี เพศชาย NIHSS 14 "
    "กำลังส่งตัวจากโรงพยาบาลชุมชนไปยังโรงพยาบาลตรัง คาดว่าจะถึงในอีก 35 นาที "
    "กรุณาเตรียมทีมและห้อง CT ให้พร้อม และยืนยันการรับผู้ป่วยผ่านลิงก์ด้านล่างโดยเร็วที่สุด "
    "ขอบคุณค่ะ ทีมประสานงาน Fast Track"
)


# --- servers --------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _serve(app: FastAPI, port: int) -> AsyncIterator[str]:
    """Serves an ASGI app with uvicorn inside the running loop until the block exits."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                raise RuntimeError(f"uvicorn did not start on port {port}")
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


class Mailbox:
    """aiosmtpd handler: records envelopes; refuses chosen recipients with 550 or 451."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.unknown: set[str] = set()  # 550
        self.busy: set[str] = set()  # 451

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address in self.unknown:
            return "550 5.1.1 No such user here"
        if address in self.busy:
            return "451 4.3.0 Mailbox temporarily unavailable, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture(scope="module")
async def generic_gateway() -> AsyncIterator[tuple[FakeSmsGateway, str]]:
    gateway = FakeSmsGateway()
    async with _serve(create_generic_sms_app(gateway, api_key=API_KEY), GENERIC_PORT) as base:
        yield gateway, f"{base}/sms"


@pytest.fixture(scope="module")
async def thaibulksms() -> AsyncIterator[tuple[FakeSmsGateway, str]]:
    gateway = FakeSmsGateway()
    app = create_thaibulksms_app(gateway, api_key=TBS_KEY, api_secret=TBS_SECRET)
    async with _serve(app, THAIBULKSMS_PORT) as base:
        yield gateway, base


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(timeout_s=5.0) as client:
        yield client


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[Mailbox]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    yield mailbox
    controller.stop()


@pytest.fixture
def gateway(generic_gateway: tuple[FakeSmsGateway, str]) -> Iterator[FakeSmsGateway]:
    generic_gateway[0].reset()
    yield generic_gateway[0]
    generic_gateway[0].reset()


@pytest.fixture
def tbs(thaibulksms: tuple[FakeSmsGateway, str]) -> Iterator[FakeSmsGateway]:
    thaibulksms[0].reset()
    yield thaibulksms[0]
    thaibulksms[0].reset()


@pytest.fixture
def mailbox(smtp_server: Mailbox) -> Mailbox:
    smtp_server.envelopes.clear()
    smtp_server.unknown.clear()
    smtp_server.busy.clear()
    return smtp_server


def _delivery(
    channel: Channel, address: str, body: dict[str, object] | None = None, *, id: str = "d-1"
) -> Delivery:
    return Delivery(
        id=id,
        request_id="req-1",
        referral_id="ref-1",
        recipient="Practitioner/neuro-on-call",
        channel=channel,
        priority="stat",
        body=body if body is not None else {"text": LONG_THAI_TEXT, "link": LINK},
        address=address,
    )


def _generic(http: httpx.AsyncClient, url: str, *, api_key: str = API_KEY) -> GenericSmsChannel:
    return GenericSmsChannel(client=http, url=url, api_key=api_key, sender=SENDER)


def _thaibulksms(
    http: httpx.AsyncClient, base_url: str, *, secret: str = TBS_SECRET
) -> ThaiBulkSmsChannel:
    return ThaiBulkSmsChannel(
        client=http,
        base_url=base_url,
        api_key=TBS_KEY,
        api_secret=secret,
        sender=SENDER,
        force="corporate",
    )


def _mail_channel(port: int = SMTP_PORT) -> EmailChannel:
    return EmailChannel(host="127.0.0.1", port=port, sender=MAIL_FROM, timeout_s=2)


# --- SMS text ---------------------------------------------------------------------------------


def test_sms_text_keeps_the_link_whole_and_fits_three_segments() -> None:
    text = compose_sms_text(LONG_THAI_TEXT, LINK)
    assert len(text) <= SMS_MAX_CHARS
    assert text.endswith(f"…\n{LINK}")
    assert compose_sms_text("short", LINK) == f"short\n{LINK}"
    assert compose_sms_text("short", None) == "short"
    assert len(compose_sms_text(LONG_THAI_TEXT, None)) == SMS_MAX_CHARS
    too_long_link = "https://fasttrack.example/" + "x" * 200
    assert compose_sms_text("text", too_long_link) == too_long_link


def test_sms_text_is_not_cut_between_a_thai_consonant_and_its_marks() -> None:
    # "ที่" is a consonant followed by two combining marks: cutting inside it would strand them.
    text = compose_sms_text("ก" * 10 + "ที่" + "ก" * 300, LINK, limit=len(LINK) + 13)
    assert text == "ก" * 10 + "…\n" + LINK


# --- generic SMS gateway ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number", ["0812345678", "+66812345678", "081-234-5678", "+66 81 234 5678"]
)
async def test_generic_sms_is_delivered_with_normalised_number_and_text_with_link(
    generic_gateway: tuple[FakeSmsGateway, str],
    gateway: FakeSmsGateway,
    http: httpx.AsyncClient,
    number: str,
) -> None:
    await _generic(http, generic_gateway[1]).send(_delivery(Channel.SMS, number))

    [message] = gateway.messages
    assert message["to"] == "66812345678"
    assert message["from"] == SENDER
    assert message["reference"] == message["idempotency_key"] == "d-1"
    assert len(message["text"]) <= SMS_MAX_CHARS
    assert message["text"].startswith("แจ้งเตือนโรคหลอดเลือดสมอง")
    assert message["text"].endswith(f"…\n{LINK}")


@pytest.mark.parametrize(
    "number", ["", "021234567", "0212345678", "081234567", "+6681234567", "+14155550100", "abc"]
)
async def test_invalid_phone_number_is_permanent_without_a_request(
    generic_gateway: tuple[FakeSmsGateway, str],
    gateway: FakeSmsGateway,
    http: httpx.AsyncClient,
    number: str,
) -> None:
    with pytest.raises(PermanentDeliveryError, match="invalid phone number"):
        await _generic(http, generic_gateway[1]).send(_delivery(Channel.SMS, number))
    assert gateway.requests == 0


async def test_generic_gateway_500_is_transient_and_the_retry_is_delivered_once(
    generic_gateway: tuple[FakeSmsGateway, str], gateway: FakeSmsGateway, http: httpx.AsyncClient
) -> None:
    channel = _generic(http, generic_gateway[1])
    delivery = _delivery(Channel.SMS, "0812345678")
    gateway.fail_next = [500]
    with pytest.raises(TransientDeliveryError, match="500"):
        await channel.send(delivery)
    assert gateway.messages == []

    await channel.send(delivery)
    await channel.send(delivery)  # a redelivery: same Idempotency-Key, the gateway drops it
    assert len(gateway.messages) == 1
    assert gateway.requests == 3


async def test_generic_gateway_429_is_transient_with_retry_after(
    generic_gateway: tuple[FakeSmsGateway, str], gateway: FakeSmsGateway, http: httpx.AsyncClient
) -> None:
    gateway.fail_next = [429]
    gateway.retry_after = "7"
    with pytest.raises(TransientDeliveryError) as throttled:
        await _generic(http, generic_gateway[1]).send(_delivery(Channel.SMS, "0812345678"))
    assert throttled.value.retry_after_s == 7


async def test_generic_gateway_401_is_permanent(
    generic_gateway: tuple[FakeSmsGateway, str], gateway: FakeSmsGateway, http: httpx.AsyncClient
) -> None:
    channel = _generic(http, generic_gateway[1], api_key="wrong-key")
    with pytest.raises(PermanentDeliveryError, match="401"):
        await channel.send(_delivery(Channel.SMS, "0812345678"))
    assert gateway.messages == []


async def test_generic_gateway_timeout_is_transient(
    generic_gateway: tuple[FakeSmsGateway, str], gateway: FakeSmsGateway
) -> None:
    gateway.delay_s = 1.0
    async with http_client(timeout_s=0.2) as impatient:
        with pytest.raises(TransientDeliveryError, match="timed out"):
            await _generic(impatient, generic_gateway[1]).send(_delivery(Channel.SMS, "0812345678"))


async def test_generic_gateway_down_is_transient(http: httpx.AsyncClient) -> None:
    channel = _generic(http, f"http://127.0.0.1:{CLOSED_HTTP_PORT}/sms")
    with pytest.raises(TransientDeliveryError, match="unreachable"):
        await channel.send(_delivery(Channel.SMS, "0812345678"))


# --- ThaiBulkSMS ----------------------------------------------------------------------------------


async def test_thaibulksms_delivers_form_with_basic_auth_and_normalised_msisdn(
    thaibulksms: tuple[FakeSmsGateway, str], tbs: FakeSmsGateway, http: httpx.AsyncClient
) -> None:
    await _thaibulksms(http, thaibulksms[1]).send(_delivery(Channel.SMS, "+66 81 234 5678"))

    [message] = tbs.messages
    assert message["msisdn"] == "66812345678"
    assert message["sender"] == SENDER
    assert message["force"] == "corporate"
    assert len(message["message"]) <= SMS_MAX_CHARS
    assert message["message"].endswith(f"…\n{LINK}")


async def test_thaibulksms_invalid_number_is_permanent_without_a_request(
    thaibulksms: tuple[FakeSmsGateway, str], tbs: FakeSmsGateway, http: httpx.AsyncClient
) -> None:
    with pytest.raises(PermanentDeliveryError, match="invalid phone number"):
        await _thaibulksms(http, thaibulksms[1]).send(_delivery(Channel.SMS, "02-123-4567"))
    assert tbs.requests == 0


async def test_thaibulksms_bad_credentials_are_permanent(
    thaibulksms: tuple[FakeSmsGateway, str], tbs: FakeSmsGateway, http: httpx.AsyncClient
) -> None:
    channel = _thaibulksms(http, thaibulksms[1], secret="wrong-secret")
    with pytest.raises(PermanentDeliveryError, match=r"401.*UNAUTHORIZED"):
        await channel.send(_delivery(Channel.SMS, "0812345678"))
    assert tbs.messages == []


async def test_thaibulksms_validation_error_is_permanent(
    thaibulksms: tuple[FakeSmsGateway, str], tbs: FakeSmsGateway, http: httpx.AsyncClient
) -> None:
    tbs.fail_next = [400]
    with pytest.raises(PermanentDeliveryError, match="400"):
        await _thaibulksms(http, thaibulksms[1]).send(_delivery(Channel.SMS, "0812345678"))


async def test_thaibulksms_number_in_bad_phone_number_list_is_permanent(
    thaibulksms: tuple[FakeSmsGateway, str], tbs: FakeSmsGateway, http: httpx.AsyncClient
) -> None:
    tbs.rejected_numbers.add("66812345678")
    with pytest.raises(PermanentDeliveryError, match="rejected the phone number"):
        await _thaibulksms(http, thaibulksms[1]).send(_delivery(Channel.SMS, "0812345678"))
    assert tbs.messages == []


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_thaibulksms_server_errors_are_transient(
    thaibulksms: tuple[FakeSmsGateway, str],
    tbs: FakeSmsGateway,
    http: httpx.AsyncClient,
    status: int,
) -> None:
    tbs.fail_next = [status]
    with pytest.raises(TransientDeliveryError, match=str(status)):
        await _thaibulksms(http, thaibulksms[1]).send(_delivery(Channel.SMS, "0812345678"))


async def test_thaibulksms_429_is_transient_with_retry_after(
    thaibulksms: tuple[FakeSmsGateway, str], tbs: FakeSmsGateway, http: httpx.AsyncClient
) -> None:
    tbs.fail_next = [429]
    tbs.retry_after = "12"
    with pytest.raises(TransientDeliveryError) as throttled:
        await _thaibulksms(http, thaibulksms[1]).send(_delivery(Channel.SMS, "0812345678"))
    assert throttled.value.retry_after_s == 12


# --- e-mail -----------------------------------------------------------------------------------


async def test_email_is_delivered_as_utf8_with_subject_and_message_id(mailbox: Mailbox) -> None:
    delivery = _delivery(
        Channel.EMAIL,
        "neuro@trang-hospital.example",
        {"title": "แจ้งเตือน Stroke Fast Track", "text": LONG_THAI_TEXT, "link": LINK},
        id="3f1c2a9e-0d4b-5c6e-8f7a-1b2c3d4e5f60",
    )
    await _mail_channel().send(delivery)

    [envelope] = mailbox.envelopes
    assert envelope.mail_from == "noreply@fasttrack.example"
    assert envelope.rcpt_tos == ["neuro@trang-hospital.example"]
    assert isinstance(envelope.content, bytes)
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert message["Subject"] == "แจ้งเตือน Stroke Fast Track"
    assert message["Message-ID"] == "<3f1c2a9e-0d4b-5c6e-8f7a-1b2c3d4e5f60@fasttrack>"
    assert message["To"] == "neuro@trang-hospital.example"
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message.get_content() == f"{LONG_THAI_TEXT}\n\n{LINK}\n"  # the full text, uncut


async def test_an_alert_by_email_ends_with_its_acknowledgement_link(mailbox: Mailbox) -> None:
    ack_link = "https://fasttrack.example/ack/token"
    body = {"text": "Stroke alert", "link": LINK, "needs_ack": True, "ack_link": ack_link}
    await _mail_channel().send(_delivery(Channel.EMAIL, "a@b.example", body))
    [envelope] = mailbox.envelopes
    assert isinstance(envelope.content, bytes)
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    content = message.get_content()
    assert content == f"Stroke alert\n\n{LINK}\n\nAcknowledge / รับทราบ: {ack_link}\n"


async def test_an_alert_by_sms_carries_its_acknowledgement_link_instead_of_the_page_link(
    generic_gateway: tuple[FakeSmsGateway, str], gateway: FakeSmsGateway, http: httpx.AsyncClient
) -> None:
    ack_link = "https://fasttrack.example/ack/token"
    body = {"text": "Stroke alert", "link": LINK, "needs_ack": True, "ack_link": ack_link}
    await _generic(http, generic_gateway[1]).send(_delivery(Channel.SMS, "0812345678", body))
    [message] = gateway.messages
    assert message["text"] == f"Stroke alert\n{ack_link}"


async def test_email_without_title_gets_the_default_subject(mailbox: Mailbox) -> None:
    await _mail_channel().send(_delivery(Channel.EMAIL, "a@b.example", {"text": "สวัสดี"}))
    [envelope] = mailbox.envelopes
    assert isinstance(envelope.content, bytes)
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert message["Subject"] == DEFAULT_SUBJECT


async def test_email_unknown_recipient_550_is_permanent(mailbox: Mailbox) -> None:
    mailbox.unknown.add("gone@trang-hospital.example")
    with pytest.raises(PermanentDeliveryError, match="550"):
        await _mail_channel().send(_delivery(Channel.EMAIL, "gone@trang-hospital.example"))
    assert mailbox.envelopes == []


async def test_email_busy_mailbox_451_is_transient(mailbox: Mailbox) -> None:
    mailbox.busy.add("busy@trang-hospital.example")
    with pytest.raises(TransientDeliveryError, match="451"):
        await _mail_channel().send(_delivery(Channel.EMAIL, "busy@trang-hospital.example"))
    assert mailbox.envelopes == []


@pytest.mark.parametrize(
    "address", ["", "   ", "not-an-address", "a@b", "x@y.example\r\nBcc: all@y.example", "a b@c.d"]
)
async def test_email_invalid_address_is_permanent_without_connecting(address: str) -> None:
    # Nothing listens on this port: a connection attempt would be a transient failure instead.
    with pytest.raises(PermanentDeliveryError, match="invalid e-mail address"):
        await _mail_channel(CLOSED_SMTP_PORT).send(_delivery(Channel.EMAIL, address))


async def test_email_server_down_is_transient() -> None:
    with pytest.raises(TransientDeliveryError, match="unreachable"):
        await _mail_channel(CLOSED_SMTP_PORT).send(_delivery(Channel.EMAIL, "a@b.example"))
