"""The LINE channel against a fake LINE Messaging API served on loopback (ports 18201-18209).

Needs no Kafka or PostgreSQL: the fake is a FastAPI app served by uvicorn in the test loop,
and the channel talks to it with the notifier's own client (httpx over aiohttp:
services/notifier/adapters/http_client.py).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from services.notifier.adapters.http_client import http_client
from services.notifier.adapters.line import LineChannel
from services.notifier.domain.model import (
    Channel,
    Delivery,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from tests.fakes.line_server import FakeLineState, line_api
from tests.fakes.server import serve_app, stop_app
from tests.support import shifted_port

pytestmark = pytest.mark.integration

PORTS = range(shifted_port(18201), shifted_port(18210))
TOKEN = "test-channel-access-token"
LINE_USER = "U4af4980629a0c1b9f5e3a2d7c8b61e02"
LINK = "https://fasttrack.example/r/ref-7f3a"
TEXT = (
    "แจ้งเตือนโรคหลอดเลือดสมอง HN 6612345 อายุ 67 ปี ชาย NIHSS 14 "
    "ถึงโรงพยาบาลตรังในอีก 35 นาที / Stroke alert: HN 6612345, 67 M, NIHSS 14, ETA 35 min"
)


@pytest.fixture(scope="module")
async def line_server() -> AsyncIterator[tuple[FakeLineState, str]]:
    state = FakeLineState(channel_access_token=TOKEN)
    app = line_api(state)
    for port in PORTS:
        try:
            server, task = await serve_app(app, port)
        except OSError:
            continue
        break
    else:
        pytest.fail(f"no free port in {PORTS.start}-{PORTS.stop - 1} for the fake LINE API")
    try:
        yield state, f"http://127.0.0.1:{port}"
    finally:
        if state.hang is not None:
            state.hang.set()
        await stop_app(server, task)


@pytest.fixture
def line(line_server: tuple[FakeLineState, str]) -> Iterator[FakeLineState]:
    state, _ = line_server
    state.reset()
    yield state
    if state.hang is not None:
        state.hang.set()


@pytest.fixture
def base_url(line_server: tuple[FakeLineState, str]) -> str:
    return line_server[1]


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(timeout_s=5.0) as http:
        yield http


def _delivery(*, address: str = LINE_USER, delivery_id: str | None = None, **body: Any) -> Delivery:
    return Delivery(
        id=delivery_id or str(uuid.uuid4()),
        request_id="req-1",
        referral_id="ref-7f3a",
        recipient="Practitioner/neuro-on-call",
        channel=Channel.LINE,
        priority="stat",
        body={"text": TEXT, "link": LINK, "needs_ack": True} | body,
        address=address,
    )


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    footer = message["contents"].get("footer")
    return [] if footer is None else list(footer["contents"])


async def test_push_carries_retry_key_token_and_flex_message_with_ack_postback(
    line: FakeLineState, base_url: str, client: httpx.AsyncClient
) -> None:
    delivery = _delivery()
    await LineChannel(client=client, base_url=base_url, channel_access_token=TOKEN).send(delivery)

    assert len(line.pushes) == 1  # accepted, so the bearer token matched
    push = line.pushes[0]
    assert push.retry_key == delivery.id
    assert push.to == LINE_USER
    assert len(push.messages) == 1
    message = push.messages[0]
    assert message["type"] == "flex"
    assert message["altText"] == TEXT
    assert message["contents"]["type"] == "bubble"
    assert message["contents"]["body"]["contents"][0]["text"] == TEXT
    ack, open_link = _buttons(message)
    assert ack["action"]["type"] == "postback"
    assert ack["action"]["data"] == f"ack={delivery.id}"
    assert ack["action"]["label"] == "Acknowledge / รับทราบ"
    assert ack["action"]["displayText"]
    assert open_link["action"] == {"type": "uri", "label": "Open / เปิด", "uri": LINK}


async def test_alt_text_is_cut_and_buttons_only_when_asked_for(
    line: FakeLineState, base_url: str, client: httpx.AsyncClient
) -> None:
    long_text = "ก" * 450
    delivery = _delivery(text=long_text, needs_ack=False, link=None)
    await LineChannel(client=client, base_url=base_url, channel_access_token=TOKEN).send(delivery)

    message = line.pushes[0].messages[0]
    assert message["altText"] == long_text[:400]
    assert message["contents"]["body"]["contents"][0]["text"] == long_text
    assert _buttons(message) == []


async def test_repeat_with_same_delivery_id_is_a_409_counted_as_sent_and_not_recorded_twice(
    line: FakeLineState,
    base_url: str,
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    channel = LineChannel(client=client, base_url=base_url, channel_access_token=TOKEN)
    delivery = _delivery()
    await channel.send(delivery)
    with caplog.at_level(logging.INFO, logger="services.notifier.adapters.line"):
        await channel.send(delivery)  # LINE answers 409: the first attempt went through

    assert line.requests == 2
    assert len(line.pushes) == 1
    assert any("already accepted" in record.getMessage() for record in caplog.records)
    assert all(TEXT not in record.getMessage() for record in caplog.records)


async def test_server_error_is_transient_and_the_retry_goes_through_once(
    line: FakeLineState, base_url: str, client: httpx.AsyncClient
) -> None:
    channel = LineChannel(client=client, base_url=base_url, channel_access_token=TOKEN)
    delivery = _delivery()
    line.fail_next = [500]
    with pytest.raises(TransientDeliveryError, match="500"):
        await channel.send(delivery)
    assert line.pushes == []

    await channel.send(delivery)
    assert [push.retry_key for push in line.pushes] == [delivery.id]


async def test_throttling_is_transient_and_honours_retry_after(
    line: FakeLineState, base_url: str, client: httpx.AsyncClient
) -> None:
    line.fail_next = [429]
    line.retry_after = 7
    with pytest.raises(TransientDeliveryError) as throttled:
        await LineChannel(client=client, base_url=base_url, channel_access_token=TOKEN).send(
            _delivery()
        )
    assert throttled.value.retry_after_s == 7
    assert "429" in throttled.value.reason


async def test_wrong_token_is_permanent_with_lines_reason_but_not_the_text(
    line: FakeLineState, base_url: str, client: httpx.AsyncClient
) -> None:
    channel = LineChannel(client=client, base_url=base_url, channel_access_token="wrong-token")
    with pytest.raises(PermanentDeliveryError) as refused:
        await channel.send(_delivery())
    assert "401" in refused.value.reason
    assert "Authentication failed" in refused.value.reason
    assert TEXT not in refused.value.reason
    assert line.pushes == []


@pytest.mark.parametrize("status", [400, 403])
async def test_other_client_errors_are_permanent(
    status: int, line: FakeLineState, base_url: str, client: httpx.AsyncClient
) -> None:
    line.fail_next = [status]
    with pytest.raises(PermanentDeliveryError, match=str(status)):
        await LineChannel(client=client, base_url=base_url, channel_access_token=TOKEN).send(
            _delivery()
        )


async def test_empty_address_is_permanent_without_any_request(
    line: FakeLineState, base_url: str, client: httpx.AsyncClient
) -> None:
    channel = LineChannel(client=client, base_url=base_url, channel_access_token=TOKEN)
    with pytest.raises(PermanentDeliveryError, match="no LINE id for the recipient"):
        await channel.send(_delivery(address=""))
    assert line.requests == 0


async def test_timeout_is_transient_and_the_retry_does_not_duplicate_the_accepted_push(
    line: FakeLineState, base_url: str
) -> None:
    delivery = _delivery()
    line.hang = asyncio.Event()
    async with http_client(timeout_s=0.3) as impatient:
        channel = LineChannel(client=impatient, base_url=base_url, channel_access_token=TOKEN)
        with pytest.raises(TransientDeliveryError, match="timed out"):
            await channel.send(delivery)
    # LINE did execute the request the client gave up on.
    line.hang.set()
    line.hang = None
    for _ in range(100):
        if line.pushes:
            break
        await asyncio.sleep(0.01)
    assert len(line.pushes) == 1

    async with http_client(timeout_s=5.0) as client:
        await LineChannel(client=client, base_url=base_url, channel_access_token=TOKEN).send(
            delivery
        )
    assert len(line.pushes) == 1


async def test_connection_refused_is_transient(client: httpx.AsyncClient) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        port = closed.getsockname()[1]
        channel = LineChannel(
            client=client, base_url=f"http://127.0.0.1:{port}", channel_access_token=TOKEN
        )
        with pytest.raises(TransientDeliveryError, match="unreachable"):
            await channel.send(_delivery())
