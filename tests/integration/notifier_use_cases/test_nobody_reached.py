"""A request's final failure: when nobody is left to reach (no recipient at all, or every
channel of every recipient failed for good), the notifier tells the request's sender once, with
a notification-failed coded nobody-reached; one delivery's failure, while a channel or another
recipient is still in play, is coded delivery-failed and names no unreached request. A live
event on the hospital's pages reaches nobody by itself and keeps no request alive."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from services.notifier.adapters import delivery_views, repository
from services.notifier.adapters.contacts_document import directory_from
from services.notifier.domain.model import Channel, Delivery
from services.notifier.service.dispatch import Attempt, Outcome, record_attempt
from services.notifier.service.handlers import accept_notification_request
from services.notifier.service.outcomes import record_undelivered
from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage
from shared.fhir.notifications import notification_request_message, unreached_request
from shared.vocabulary.notification_categories import NotificationCategory
from tests.integration.notifier_use_cases.support import RETRIES, SOURCE, published

HUB, SILENT = "nr-hub", "nr-silent"
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ROLE = f"PractitionerRole/{HUB}.neuro"
# The hub's on-call neurologist is on LINE, then SMS; its system takes webhooks. The silent
# hospital has no roster, no channel and no system: a page to it reaches nobody.
CONTACTS = directory_from(
    {
        "people": {
            "dr-one": {
                "channels": [
                    {"channel": "line", "address": "Uone"},
                    {"channel": "sms", "address": "0810000001"},
                ]
            }
        },
        "hospitals": {
            HUB: {
                "webhook": True,
                "roles": {
                    "neuro": {
                        "shifts": [
                            {
                                "person": "dr-one",
                                "days": EVERY_DAY,
                                "start": "00:00",
                                "end": "00:00",
                            }
                        ]
                    }
                },
            },
            SILENT: {"webhook": False},
        },
    }
)


def _page(referral_id: str, *, to: str = ROLE) -> tuple[FhirMessage, str]:
    request_id = f"cp0-{uuid.uuid4().hex[:8]}"
    message = notification_request_message(
        request_id=request_id,
        category=NotificationCategory.TELECONSULT_REQUEST,
        referral_id=referral_id,
        recipients=[],
        people=[to],
        english="Telestroke consult",
        thai="ขอปรึกษาแพทย์ระบบประสาท",
        link=f"https://fasttrack.test/consults/{referral_id}",
        sender="Organization/nr-spoke",
        source_endpoint="urn:fasttrack:telemedicine",
    )
    return message, request_id


async def _paged(connection: Connection, *, to: str = ROLE) -> tuple[str, str]:
    referral_id = f"nr-{uuid.uuid4().hex[:12]}"
    message, request_id = _page(referral_id, to=to)
    await accept_notification_request(connection, message, contacts=CONTACTS)
    return referral_id, request_id


async def _on(connection: Connection, referral_id: str, channel: Channel) -> Delivery:
    (entry,) = [
        e
        for e in await delivery_views.deliveries_for_referral(
            connection, referral_id=referral_id, hospital=None
        )
        if e.channel is channel
    ]
    delivery = await repository.get_delivery(connection, delivery_id=entry.id)
    assert delivery is not None
    return delivery


async def _fails(connection: Connection, delivery: Delivery, reason: str) -> Delivery | None:
    return await record_attempt(
        connection,
        delivery,
        Attempt(Outcome.FAILED, reason),
        retry_policy=RETRIES,
        contacts=CONTACTS,
        source_endpoint=SOURCE,
    )


async def _unreached(connection: Connection, referral_id: str) -> list[str]:
    """The requests the notifier said nobody could be reached for (in order)."""
    return [
        request
        for message in await published(connection, referral_id)
        if (request := unreached_request(message)) is not None
    ]


async def test_the_request_fails_once_when_its_last_channel_fails_and_not_before(
    connection: Connection,
) -> None:
    referral_id, request_id = await _paged(connection)
    line = await _on(connection, referral_id, Channel.LINE)
    sms = await _fails(connection, line, "LINE user blocked us")
    assert sms is not None
    assert sms.channel is Channel.SMS
    assert await _unreached(connection, referral_id) == []  # the SMS is still to be tried
    assert await _fails(connection, sms, "SMS gateway refused the number") is None
    assert await _unreached(connection, referral_id) == []  # the hub's system still may
    webhook = await _on(connection, referral_id, Channel.WEBHOOK)
    await _fails(connection, webhook, "webhook answered HTTP 410")

    # Three deliveries failed (each on the timeline), then the request, once: the live event on
    # the hub's pages (pending here) reaches nobody by itself.
    assert await _unreached(connection, referral_id) == [request_id]
    assert await published_events(connection, referral_id) == [EventCode.NOTIFICATION_FAILED] * 4
    final = (await published(connection, referral_id))[-1].focus_json("Communication")
    assert final is not None
    assert final["recipient"] == [{"reference": ROLE}]  # whom the request named
    # A late repeat of a failure changes nothing (the delivery is failed already).
    await _fails(connection, webhook, "webhook answered HTTP 410")
    assert await _unreached(connection, referral_id) == [request_id]


async def published_events(connection: Connection, referral_id: str) -> list[EventCode]:
    return [message.event for message in await published(connection, referral_id)]


async def test_a_request_that_reached_someone_never_fails_as_a_whole(
    connection: Connection,
) -> None:
    referral_id, _ = await _paged(connection)
    webhook = await _on(connection, referral_id, Channel.WEBHOOK)
    await record_attempt(
        connection,
        webhook,
        Attempt(Outcome.SENT),
        retry_policy=RETRIES,
        contacts=CONTACTS,
        source_endpoint=SOURCE,
    )
    line = await _on(connection, referral_id, Channel.LINE)
    sms = await _fails(connection, line, "LINE user blocked us")
    assert sms is not None
    await _fails(connection, sms, "SMS gateway refused the number")
    assert await _unreached(connection, referral_id) == []


async def test_a_text_the_gateway_reports_undelivered_last_fails_the_request(
    connection: Connection,
) -> None:
    referral_id, request_id = await _paged(connection)
    webhook = await _on(connection, referral_id, Channel.WEBHOOK)
    await _fails(connection, webhook, "webhook answered HTTP 410")
    line = await _on(connection, referral_id, Channel.LINE)
    sms = await _fails(connection, line, "LINE user blocked us")
    assert sms is not None
    await record_attempt(
        connection,
        sms,
        Attempt(Outcome.SENT),
        retry_policy=RETRIES,
        contacts=CONTACTS,
        source_endpoint=SOURCE,
    )
    assert await _unreached(connection, referral_id) == []  # sent: it may yet reach the phone
    new, following = await record_undelivered(
        connection, delivery_id=sms.id, reason="SMS gateway: absent subscriber", contacts=CONTACTS
    )
    assert (new, following) == (True, None)
    assert await _unreached(connection, referral_id) == [request_id]


async def test_a_page_to_a_hospital_with_nobody_to_reach_fails_as_it_is_accepted(
    connection: Connection,
) -> None:
    referral_id, request_id = await _paged(connection, to=f"PractitionerRole/{SILENT}.neuro")
    log = await delivery_views.deliveries_for_referral(
        connection, referral_id=referral_id, hospital=None
    )
    assert [e.channel for e in log] == [Channel.IN_APP]  # only its (unwatched) pages
    assert await _unreached(connection, referral_id) == [request_id]
    final = (await published(connection, referral_id))[0].focus_json("Communication")
    assert final is not None
    assert final["statusReason"]["text"] == "no recipient to reach"


async def test_two_deliveries_failing_at_once_fail_the_request_exactly_once(
    notifier_pool: asyncpg.Pool,
) -> None:
    async with notifier_pool.acquire() as setup:
        referral_id, request_id = await _paged(setup)
        line = await _on(setup, referral_id, Channel.LINE)
        sms = await _fails(setup, line, "LINE user blocked us")
        assert sms is not None
        webhook = await _on(setup, referral_id, Channel.WEBHOOK)

    async with notifier_pool.acquire() as first, notifier_pool.acquire() as second:
        # The webhook's failure is recorded but not yet committed when the SMS fails.
        transaction = first.transaction()
        await transaction.start()
        await _fails(first, webhook, "webhook answered HTTP 410")
        concurrent = asyncio.create_task(_fails(second, sms, "SMS gateway refused the number"))
        await asyncio.sleep(0.5)
        await transaction.commit()
        await concurrent

    async with notifier_pool.acquire() as reader:
        assert await _unreached(reader, referral_id) == [request_id]
