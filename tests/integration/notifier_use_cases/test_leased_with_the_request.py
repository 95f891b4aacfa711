"""A notification request's deliveries leased to this process's dispatcher by the statement
that records them, and sent when it commits: the dispatcher's claim (a statement and a
transaction of its own, after a wake-up) is not needed for them. Counted from the statements
really sent (asyncpg's query logger): claims for a stroke alert arriving alone 2 -> 0, with its
webhook and LINE messages each sent once and settled as before.

The lease is the claim's: its first attempt counted, for the dispatcher's lease time, so a
process that dies before sending leaves them to another sender when it ends; a dispatcher with
no room (or not running) leases nothing and claims them as before."""

from __future__ import annotations

import asyncio

from services.notifier.adapters.in_app import InAppChannel
from services.notifier.domain.model import Channel, Delivery
from services.notifier.entrypoints.consumers import wire_consumers
from services.notifier.workers.dispatcher import DeliveryDispatcher
from shared.messaging.record_reading import ReadRecord
from shared.messaging.topics import NOTIFICATION_REQUESTS
from tests.integration.notifier_use_cases.support import (
    CONTACTS,
    dispatcher_on,
    new_referral,
    stroke_alert,
)
from tests.support import eventually
from tests.use_case_database import CountedPool
from tests.wired_consumers import WiredConsumers, relayed_record

CLAIM = "UPDATE delivery SET lease_until = now() + make_interval"


class _Recording:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, delivery: Delivery) -> None:
        self.sent.append(delivery.id)


def _dispatcher(
    counted: CountedPool, webhook: _Recording, line: _Recording, *, max_in_flight: int = 32
) -> DeliveryDispatcher:
    return dispatcher_on(
        counted.pool,
        {
            Channel.WEBHOOK: webhook,
            Channel.LINE: line,
            Channel.IN_APP: InAppChannel(pool=counted.pool),
        },
        idle_wait_s=1.0,
        recheck_s=5.0,
        max_in_flight=max_in_flight,
    )


async def _settled(counted: CountedPool, referral_id: str) -> list[tuple[str, str, int]]:
    async def all_settled() -> list[tuple[str, str, int]] | None:
        rows = await counted.pool.fetch(
            "SELECT channel, status, attempts FROM delivery WHERE referral_id = $1"
            " ORDER BY channel",
            referral_id,
        )
        done = [(row["channel"], row["status"], row["attempts"]) for row in rows]
        return done if done and all(status == "sent" for _, status, _ in done) else None

    settled = await eventually(all_settled, timeout=20, what="the request's deliveries sent")
    await asyncio.sleep(0.2)  # the last settlement's statements noted
    return settled


async def test_a_requests_deliveries_are_sent_without_a_claim(counted: CountedPool) -> None:
    webhook, line = _Recording(), _Recording()
    dispatcher = _dispatcher(counted, webhook, line)
    dispatcher.start()
    try:
        async with counted.pool.acquire() as connection:
            wired = WiredConsumers(connection, service_name="notifier")
            wire_consumers(wired, dispatcher, CONTACTS)  # type: ignore[arg-type]
            await asyncio.sleep(0.3)  # the dispatcher's first (empty) claim made
            counted.sent.clear()
            referral_id = new_referral()
            await wired.deliver(NOTIFICATION_REQUESTS, stroke_alert(referral_id), key=referral_id)
            settled = await _settled(counted, referral_id)
    finally:
        await dispatcher.stop()

    assert settled == [("in-app", "sent", 1), ("line", "sent", 1), ("webhook", "sent", 1)]
    assert (len(webhook.sent), len(line.sent)) == (1, 1)
    # Was 2: woken after the commit, the dispatcher claimed the two (UPDATE ... RETURNING),
    # then, having claimed some, claimed again a poll later (none).
    assert [s for s in counted.sent if s.startswith(CLAIM)] == []


async def test_a_dispatcher_with_no_room_leases_nothing_and_claims_them(
    counted: CountedPool,
) -> None:
    webhook, line = _Recording(), _Recording()
    dispatcher = _dispatcher(counted, webhook, line)
    async with counted.pool.acquire() as connection:
        wired = WiredConsumers(connection, service_name="notifier")
        wire_consumers(wired, dispatcher, CONTACTS)  # type: ignore[arg-type]
        referral_id = new_referral()
        # Not running yet: no room.
        await wired.deliver(NOTIFICATION_REQUESTS, stroke_alert(referral_id), key=referral_id)
    leased = await counted.pool.fetchval(
        "SELECT count(*) FROM delivery WHERE referral_id = $1 AND lease_until IS NOT NULL",
        referral_id,
    )
    assert leased == 0
    dispatcher.start()
    try:
        settled = await _settled(counted, referral_id)
    finally:
        await dispatcher.stop()
    assert settled == [("in-app", "sent", 1), ("line", "sent", 1), ("webhook", "sent", 1)]
    assert (len(webhook.sent), len(line.sent)) == (1, 1)


async def test_requests_applied_together_lease_no_more_than_the_dispatchers_room(
    counted: CountedPool,
) -> None:
    """Two stroke alerts fetched together and applied in one transaction, with room for two
    sends: two of their four webhook and LINE deliveries are leased, not four (each request's
    statement saw the whole room: the dispatcher then ran twice its bound of sends at once)."""
    webhook, line = _Recording(), _Recording()
    dispatcher = _dispatcher(counted, webhook, line, max_in_flight=2)
    dispatcher.start()
    try:
        async with counted.pool.acquire() as connection:
            wired = WiredConsumers(connection, service_name="notifier")
            wire_consumers(wired, dispatcher, CONTACTS)  # type: ignore[arg-type]
            consumer = wired.subscribed(NOTIFICATION_REQUESTS)
            await asyncio.sleep(0.3)  # the dispatcher's first (empty) claim made
            referrals = [new_referral(), new_referral()]
            alerts = [stroke_alert(referral_id) for referral_id in referrals]
            async with connection.transaction():
                for referral_id, alert in zip(referrals, alerts, strict=True):
                    record = relayed_record(NOTIFICATION_REQUESTS, alert, key=referral_id)
                    read = consumer.read(record)
                    assert isinstance(read, ReadRecord)
                    assert await consumer.apply_in(connection, record, read)
                leased = await connection.fetchval(
                    "SELECT count(*) FROM delivery WHERE referral_id = ANY($1)"
                    " AND channel <> 'in-app' AND lease_until IS NOT NULL",
                    referrals,
                )
            for alert in alerts:
                consumer.committed(alert)
            settled = [await _settled(counted, referral_id) for referral_id in referrals]
    finally:
        await dispatcher.stop()

    assert leased == 2
    # The other two claimed by the dispatcher as before: every delivery sent once.
    expected = [("in-app", "sent", 1), ("line", "sent", 1), ("webhook", "sent", 1)]
    assert settled == [expected, expected]
    assert (len(webhook.sent), len(line.sent)) == (2, 2)
