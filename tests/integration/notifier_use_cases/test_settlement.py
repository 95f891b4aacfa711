"""What a send costs the database, as the dispatcher runs it: each delivery's outcome (its
state, and the event that tells the referral's timeline) is one statement with no transaction
around it; only a final failure, which queues the recipient's next channel, takes one.

The dispatcher commits, so these tests run on a schema of their own (not in a rolled-back
transaction), and every statement its pool sends is counted with asyncpg's query logger."""

from __future__ import annotations

import asyncio

import asyncpg

from services.notifier.adapters.in_app import InAppChannel
from services.notifier.domain.model import Channel, Delivery, PermanentDeliveryError
from services.notifier.service.dispatch import DeliveryChannel
from shared.fhir.codes import EventCode
from tests.integration.notifier_use_cases.support import (
    alert_queued,
    dispatcher_on,
    events,
)
from tests.support import eventually
from tests.use_case_database import CountedPool


class RecordingChannel:
    """A webhook or LINE endpoint: records what it was sent, or refuses it for good."""

    def __init__(self, *, refuses: bool = False) -> None:
        self.sent: list[str] = []
        self._refuses = refuses

    async def send(self, delivery: Delivery) -> None:
        if self._refuses:
            raise PermanentDeliveryError("blocked")
        self.sent.append(delivery.id)


async def _dispatched(
    pool: asyncpg.Pool, channels: dict[Channel, DeliveryChannel], *, referral_id: str, until: int
) -> None:
    """Runs the dispatcher until ``until`` of the referral's deliveries are no longer pending."""
    dispatcher = dispatcher_on(pool, channels)

    async def settled() -> bool:
        done: int = await pool.fetchval(
            "SELECT count(*) FROM delivery WHERE referral_id = $1 AND status <> 'pending'",
            referral_id,
        )
        return done >= until

    dispatcher.start()
    try:
        await eventually(settled, timeout=20, what=f"{until} deliveries settled")
        await asyncio.sleep(0.2)  # the last settlement's statements noted
    finally:
        await dispatcher.stop()


def _settlements(sent: list[str]) -> list[str]:
    """The statements that wrote down a send's outcome, and the transactions around any."""
    return [
        statement
        for statement in sent
        if statement.startswith(("BEGIN", "COMMIT", "WITH sent AS", "INSERT INTO outbox"))
        or (statement.startswith("UPDATE delivery SET status") and "lease_until" in statement)
    ]


async def test_a_sent_webhook_and_line_message_are_each_settled_in_one_statement(
    counted: CountedPool,
) -> None:
    pool = counted.pool
    async with pool.acquire() as connection:
        referral_id = await alert_queued(connection)  # in-app, webhook, LINE
    webhook, line = RecordingChannel(), RecordingChannel()
    counted.sent.clear()

    await _dispatched(
        pool,
        {Channel.WEBHOOK: webhook, Channel.LINE: line, Channel.IN_APP: InAppChannel(pool=pool)},
        referral_id=referral_id,
        until=3,
    )

    assert len(webhook.sent) == len(line.sent) == 1
    settlements = _settlements(counted.sent)
    # The webhook's and LINE's: its state and its outcome event in one statement each, no
    # transaction (was BEGIN, UPDATE, INSERT INTO outbox, COMMIT each); the in-app's: one
    # statement (the feed's event and its state), telling the timeline nothing yet.
    assert not [s for s in settlements if s.startswith(("BEGIN", "COMMIT"))], settlements
    # Both sent at once: written down together (was one statement each).
    assert len([s for s in settlements if s.startswith("WITH sent AS")]) == 1, settlements
    async with pool.acquire() as connection:
        assert await events(connection, referral_id) == [EventCode.NOTIFICATION_SENT] * 2
        statuses = await connection.fetch(
            "SELECT channel, status FROM delivery WHERE referral_id = $1 ORDER BY channel",
            referral_id,
        )
    assert [tuple(row) for row in statuses] == [
        ("in-app", "sent"),
        ("line", "sent"),
        ("webhook", "sent"),
    ]


async def test_deliveries_sent_at_once_are_written_down_in_one_statement(
    counted: CountedPool,
) -> None:
    """Three alerts' webhook and LINE messages, claimed together and sent at once: their six
    outcomes (state and timeline event) are one statement, no transaction (was six)."""
    pool = counted.pool
    async with pool.acquire() as connection:
        referrals = [await alert_queued(connection) for _ in range(3)]  # in-app, webhook, LINE
    webhook, line = RecordingChannel(), RecordingChannel()
    counted.sent.clear()

    dispatcher = dispatcher_on(
        pool,
        {Channel.WEBHOOK: webhook, Channel.LINE: line, Channel.IN_APP: InAppChannel(pool=pool)},
    )

    async def settled() -> bool:
        done: int = await pool.fetchval(
            "SELECT count(*) FROM delivery WHERE referral_id = ANY($1) AND status = 'sent'",
            referrals,
        )
        return done == 9

    dispatcher.start()
    try:
        await eventually(settled, timeout=20, what="the alerts' deliveries sent")
        await asyncio.sleep(0.2)  # the last settlement's statements noted
    finally:
        await dispatcher.stop()

    assert len(webhook.sent) == len(line.sent) == 3
    settlements = _settlements(counted.sent)
    assert not [s for s in settlements if s.startswith(("BEGIN", "COMMIT"))], settlements
    assert len([s for s in settlements if s.startswith("WITH sent AS")]) == 1, settlements
    async with pool.acquire() as connection:
        for referral_id in referrals:
            assert await events(connection, referral_id) == [EventCode.NOTIFICATION_SENT] * 2


async def test_a_final_failure_and_its_next_channel_are_one_transaction(
    counted: CountedPool,
) -> None:
    pool = counted.pool
    async with pool.acquire() as connection:
        referral_id = await alert_queued(connection)
    counted.sent.clear()

    await _dispatched(
        pool,
        {
            Channel.WEBHOOK: RecordingChannel(),
            Channel.LINE: RecordingChannel(refuses=True),
            Channel.SMS: RecordingChannel(),
            Channel.IN_APP: InAppChannel(pool=pool),
        },
        referral_id=referral_id,
        until=4,  # in-app, webhook, the refused LINE, and the SMS it fell back to
    )

    # The LINE failure: its state, the SMS queued and the outcome event, committed together.
    assert len([s for s in counted.sent if s.startswith("BEGIN")]) == 1, counted.sent
    async with pool.acquire() as connection:
        told = await events(connection, referral_id)
    assert sorted(told) == sorted(
        [EventCode.NOTIFICATION_SENT, EventCode.NOTIFICATION_FAILED, EventCode.NOTIFICATION_SENT]
    )
