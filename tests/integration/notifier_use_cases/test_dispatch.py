"""Dispatch: a notification request becomes deliveries, and each send's outcome is recorded with
what the referral's timeline hears of it."""

from __future__ import annotations

import asyncio
import dataclasses

import asyncpg

from services.notifier.adapters import delivery_views, live_events
from services.notifier.adapters.in_app import InAppChannel
from services.notifier.domain.model import Channel
from services.notifier.service.dispatch import Outcome, send_and_record
from services.notifier.service.handlers import accept_notification_request
from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from tests.integration.notifier_use_cases.support import (
    CONTACTS,
    HOSPITAL,
    alert_queued,
    delivery_on,
    events,
    new_referral,
    recorded,
    stroke_alert,
    summary,
)
from tests.use_case_database import sent_statements

ON_CALL = "Practitioner/dr-anan"
THE_HOSPITAL = f"Organization/{HOSPITAL}"


async def test_a_stroke_alert_to_a_hospital_queues_its_on_call_doctor_its_system_and_its_pages(
    connection: Connection,
) -> None:
    referral_id = new_referral()
    created = await accept_notification_request(
        connection, stroke_alert(referral_id), contacts=CONTACTS
    )
    log = await delivery_views.deliveries_for_referral(
        connection, referral_id=referral_id, hospital=None
    )
    assert created == 3
    assert summary(log) == [
        (THE_HOSPITAL, "in-app", "sent"),  # its pages' live event written with the request
        (THE_HOSPITAL, "webhook", "pending"),
        (ON_CALL, "line", "pending"),
    ]
    line = await delivery_on(connection, referral_id, Channel.LINE)
    assert line.body["text"].startswith("ส่งต่อผู้ป่วย stroke")  # the hospital reads Thai
    assert line.body["needs_ack"] is True
    assert line.body["link"] == f"https://fasttrack.test/referrals/{referral_id}"
    assert await events(connection, referral_id) == []  # nothing sent yet


async def test_a_requests_deliveries_are_recorded_in_one_round_trip(
    connection: Connection,
) -> None:
    referral_id = new_referral()

    async with sent_statements(connection) as sent:
        created = await accept_notification_request(
            connection, stroke_alert(referral_id), contacts=CONTACTS
        )

    # The three deliveries and the hospitals that may read their log in one statement (was
    # two: an INSERT each).
    assert created == 3
    assert len(sent) == 1, "\n".join(sent)
    assert await connection.fetchval(
        "SELECT array_agg(hospital ORDER BY hospital) FROM referral_hospital "
        "WHERE referral_id = $1",
        referral_id,
    ) == sorted({HOSPITAL, "uc-community"})  # the hospital alerted and the one that asked


async def test_the_same_request_delivered_twice_queues_nothing_more(connection: Connection) -> None:
    referral_id = new_referral()
    message = stroke_alert(referral_id)
    await accept_notification_request(connection, message, contacts=CONTACTS)
    again = await accept_notification_request(connection, message, contacts=CONTACTS)
    assert again == 0
    assert (
        len(
            await delivery_views.deliveries_for_referral(
                connection, referral_id=referral_id, hospital=None
            )
        )
        == 3
    )


async def test_a_sent_message_is_recorded_and_told_to_the_referral_timeline(
    connection: Connection,
) -> None:
    referral_id = await alert_queued(connection)
    line = await delivery_on(connection, referral_id, Channel.LINE)
    assert await recorded(connection, line, Outcome.SENT) is None
    assert (await delivery_on(connection, referral_id, Channel.LINE)).id == line.id
    log = await delivery_views.deliveries_for_referral(
        connection, referral_id=referral_id, hospital=None
    )
    assert (ON_CALL, "line", "sent") in summary(log)
    assert await events(connection, referral_id) == [EventCode.NOTIFICATION_SENT]


async def test_a_sent_message_is_recorded_and_told_in_one_statement(
    connection: Connection,
) -> None:
    referral_id = await alert_queued(connection)
    webhook = await delivery_on(connection, referral_id, Channel.WEBHOOK)
    line = await delivery_on(connection, referral_id, Channel.LINE)

    async with sent_statements(connection) as sent:
        for delivery in (webhook, line):
            assert await recorded(connection, delivery, Outcome.SENT) is None

    # Each: marked sent and its outcome event queued by one statement (a CTE), so the
    # dispatcher needs no transaction around it. Was two, an UPDATE and an INSERT, each pair
    # in a transaction of its own.
    assert len(sent) == 2, "\n".join(sent)
    assert await events(connection, referral_id) == [EventCode.NOTIFICATION_SENT] * 2
    log = await delivery_views.deliveries_for_referral(
        connection, referral_id=referral_id, hospital=None
    )
    assert {(THE_HOSPITAL, "webhook", "sent"), (ON_CALL, "line", "sent")} <= set(summary(log))


async def test_an_outcome_another_sender_recorded_first_is_not_told_twice(
    connection: Connection,
) -> None:
    referral_id = await alert_queued(connection)
    line = await delivery_on(connection, referral_id, Channel.LINE)
    await recorded(connection, line, Outcome.SENT)
    await recorded(connection, line, Outcome.SENT)
    assert await events(connection, referral_id) == [EventCode.NOTIFICATION_SENT]


async def test_a_live_event_published_is_not_yet_news_for_the_timeline(
    connection: Connection,
) -> None:
    """Published to the hospital's feed has told nobody: the timeline hears of it when an
    open page shows it (notification-delivered)."""
    referral_id = await alert_queued(connection)
    await recorded(
        connection, await delivery_on(connection, referral_id, Channel.IN_APP), Outcome.SENT
    )
    log = await delivery_views.deliveries_for_referral(
        connection, referral_id=referral_id, hospital=None
    )
    assert (THE_HOSPITAL, "in-app", "sent") in summary(log)
    assert await events(connection, referral_id) == []


async def test_an_in_app_delivery_is_published_and_recorded_sent_in_one_statement(
    connection: Connection, notifier_pool: asyncpg.Pool
) -> None:
    referral_id = await alert_queued(connection)
    page = await delivery_on(connection, referral_id, Channel.IN_APP)

    async with sent_statements(connection) as sent:
        await send_and_record(connection, page, InAppChannel(pool=notifier_pool))

    log = await delivery_views.deliveries_for_referral(
        connection, referral_id=referral_id, hospital=None
    )
    assert (THE_HOSPITAL, "in-app", "sent") in summary(log)
    (event,) = await live_events.events_after(connection, organization=HOSPITAL, after_id=0)
    assert event.payload["delivery"] == page.id
    # The feed's lock, the event with its NOTIFY and the delivery marked sent: one statement,
    # so the dispatcher runs it without a transaction of its own. Was 3 statements in a
    # transaction (5 round trips with BEGIN and COMMIT), and before that two transactions.
    assert len(sent) == 1, "\n".join(sent)
    assert await events(connection, referral_id) == []  # no news for the timeline yet


async def test_an_in_app_event_is_announced_to_the_hospitals_pages(
    notifier_pool: asyncpg.Pool,
) -> None:
    """The one statement still wakes the hospital's open pages (NOTIFY at its commit)."""
    heard: list[str] = []

    def hear(*args: object) -> None:
        heard.append(str(args[3]))  # (connection, pid, channel, payload)

    async with notifier_pool.acquire() as listener, notifier_pool.acquire() as connection:
        await listener.add_listener(live_events.LIVE_EVENT_CHANNEL, hear)
        try:
            referral_id = await alert_queued(connection)
            page = await delivery_on(connection, referral_id, Channel.IN_APP)
            await send_and_record(connection, page, InAppChannel(pool=notifier_pool))
            for _ in range(50):
                if heard:
                    break
                await asyncio.sleep(0.02)
        finally:
            await listener.remove_listener(live_events.LIVE_EVENT_CHANNEL, hear)
            await connection.execute("DELETE FROM live_event WHERE delivery_id = $1", page.id)
    assert heard == [HOSPITAL]


async def test_a_passing_failure_is_tried_again_later_without_news(connection: Connection) -> None:
    referral_id = await alert_queued(connection)
    line = await delivery_on(connection, referral_id, Channel.LINE)
    await recorded(connection, dataclasses.replace(line, attempts=1), Outcome.RETRY, "HTTP 503")
    (entry,) = [
        e
        for e in await delivery_views.deliveries_for_referral(
            connection, referral_id=referral_id, hospital=None
        )
        if e.id == line.id
    ]
    assert entry.status.value == "pending"
    assert entry.last_error == "HTTP 503"
    later = await connection.fetchval(
        "SELECT next_attempt_at > now() FROM delivery WHERE id = $1", line.id
    )
    assert later is True
    assert await events(connection, referral_id) == []


async def test_a_final_failure_is_told_and_falls_back_to_the_doctors_next_channel(
    connection: Connection,
) -> None:
    referral_id = await alert_queued(connection)
    line = await delivery_on(connection, referral_id, Channel.LINE)
    following = await recorded(connection, line, Outcome.FAILED, "LINE user blocked us")
    assert following is not None
    assert following.channel is Channel.SMS
    assert following.address == "0811111111"
    log = await delivery_views.deliveries_for_referral(
        connection, referral_id=referral_id, hospital=None
    )
    assert (ON_CALL, "line", "failed") in summary(log)
    assert (ON_CALL, "sms", "pending") in summary(log)
    assert await events(connection, referral_id) == [EventCode.NOTIFICATION_FAILED]


async def test_retries_end_after_the_policys_attempts_as_a_final_failure(
    connection: Connection,
) -> None:
    referral_id = await alert_queued(connection)
    line = dataclasses.replace(await delivery_on(connection, referral_id, Channel.LINE), attempts=3)
    following = await recorded(connection, line, Outcome.RETRY, "send timed out")
    assert following is not None  # the SMS
    failed = [e for e in await delivery_views.dead_letters(connection) if e.id == line.id]
    assert [e.last_error for e in failed] == ["send timed out (gave up after 3)"]
    assert await events(connection, referral_id) == [EventCode.NOTIFICATION_FAILED]
