"""The outbox relay sleeps until a commit wakes it: an idle service's relay sends the database
nothing (it looked every second: a statement each time), a row is still published as soon as
its transaction commits, and a row whose NOTIFY went to nobody (the listening connection lost)
is published as soon as the listener is back, not at the relay's re-check a minute later.

The relay and the process's listener are wired as shared/runtime.py wires them, on a scratch
schema; every statement they send is counted with asyncpg's query logger."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest
from faststream.kafka import KafkaBroker

from shared.messaging.broker import create_broker
from shared.messaging.outbox import add_to_outbox
from shared.messaging.outbox_relay import OutboxRelay
from shared.messaging.topics import Topic
from shared.runtime import relay_notices
from shared.settings import PlatformSettings
from shared.workers import DatabaseNotices
from tests.support import TestStack, eventually, task_update
from tests.use_case_database import CountedPool

pytestmark = pytest.mark.integration

IDLE_S = 3.0  # three of the old looks, one a second
RETRY_S = 1.0  # the production setting (FT_OUTBOX_RETRY_S)


@pytest.fixture(scope="module")
async def broker(stack: TestStack) -> AsyncIterator[KafkaBroker]:
    settings = PlatformSettings(kafka_bootstrap_servers=stack.bootstrap_servers)
    kafka = create_broker(settings, service_name="itest")
    await kafka.start()
    yield kafka
    await kafka.stop()


@pytest.fixture
async def counted(stack: TestStack, scratch_schema: str) -> AsyncIterator[CountedPool]:
    counted = CountedPool()
    await counted.open(stack.database_url, scratch_schema)
    yield counted
    await counted.pool.close()


def _wired(
    pool: asyncpg.Pool, broker: KafkaBroker, schema: str
) -> tuple[OutboxRelay, DatabaseNotices]:
    relay = OutboxRelay(
        pool=pool,
        broker=broker,
        producer_name="itest",
        schema=schema,
        retry_s=RETRY_S,
        batch_size=100,
    )
    return relay, DatabaseNotices(pool=pool, handlers=relay_notices(relay))


async def _asleep(relay: OutboxRelay, *, for_s: float) -> None:
    """Past its first rounds (at start, and when the listener connected): its next round is
    more than ``for_s`` away."""

    async def asleep() -> bool:
        await asyncio.sleep(0.5)
        planned = relay._planned
        return relay.rounds >= 2 and planned is not None and planned > time.time() + for_s

    await eventually(asleep, timeout=30, what="the relay's first rounds")


async def _lock_holders(pool: asyncpg.Pool, channel: str) -> list[int]:
    """The backends holding the relay's lock (``pg_advisory_lock(hashtext(channel))``: a bigint
    key, shown in pg_locks as its high and low 32 bits) in this database."""
    rows = await pool.fetch(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND classid = ((hashtext($1)::bigint >> 32) & 4294967295)::oid"
        " AND objid = (hashtext($1)::bigint & 4294967295)::oid",
        channel,
    )
    return [row["pid"] for row in rows]


async def _published(pool: asyncpg.Pool, key: str) -> bool:
    count: int = await pool.fetchval(
        "SELECT count(*) FROM outbox WHERE message_key = $1 AND published_at IS NOT NULL", key
    )
    return count == 1


async def test_an_idle_relay_sends_no_statement_and_a_commit_wakes_it(
    counted: CountedPool, broker: KafkaBroker, scratch_schema: str, scratch_topic: Topic
) -> None:
    relay, notices = _wired(counted.pool, broker, scratch_schema)
    relay.start()
    notices.start()
    try:
        await _asleep(relay, for_s=IDLE_S)
        counted.sent.clear()

        await asyncio.sleep(IDLE_S)

        # Polling, it read the outbox every second: 3 statements here.
        assert counted.sent == []

        rounds = relay.rounds
        async with counted.pool.acquire() as connection, connection.transaction():
            await add_to_outbox(
                connection,
                topic=scratch_topic,
                key="referral-w",
                message=task_update("referral-w", "step 1"),
            )
        # Far sooner than the minute's re-check: only the NOTIFY can have woken it. Two
        # rounds: the one it started, which sent the row, and the one that marked it sent, a
        # second (``mark_within_s``) later, no other round having come first.
        await eventually(
            lambda: _published(counted.pool, "referral-w"), timeout=10, what="the publication"
        )
        assert relay.rounds == rounds + 2
    finally:
        await notices.stop()
        await relay.stop()


async def test_a_row_whose_notify_nobody_heard_is_published_when_the_listener_is_back(
    counted: CountedPool, broker: KafkaBroker, scratch_schema: str, scratch_topic: Topic
) -> None:
    relay, notices = _wired(counted.pool, broker, scratch_schema)
    notices.reconnect_after_s = 3.0  # time to commit a row while nobody listens
    relay.start()
    notices.start()
    try:
        await _asleep(relay, for_s=30)
        listener = f'LISTEN "{relay.channel}"'
        terminated = await counted.pool.fetchval(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1", listener
        )
        assert terminated

        async def nobody_listens() -> bool:
            count: int = await counted.pool.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE query = $1", listener
            )
            return count == 0

        await eventually(nobody_listens, timeout=5, what="the listener gone")
        async with counted.pool.acquire() as connection, connection.transaction():
            await add_to_outbox(
                connection,
                topic=scratch_topic,
                key="referral-m",
                message=task_update("referral-m", "step 1"),
            )
        await asyncio.sleep(1.0)
        assert not await _published(counted.pool, "referral-m")  # the NOTIFY went to nobody

        # The listener reconnects 3 s after it was lost and tells the relay to look: the row
        # goes then, not at the re-check a minute after the relay's last round.
        await eventually(
            lambda: _published(counted.pool, "referral-m"), timeout=15, what="the publication"
        )
    finally:
        await notices.stop()
        await relay.stop()


async def test_a_relay_whose_lock_connection_was_lost_leads_again_and_publishes(
    counted: CountedPool, broker: KafkaBroker, scratch_schema: str, scratch_topic: Topic
) -> None:
    """PostgreSQL restarted, or the connection cut: the lock went with the connection, and the
    next commit's round takes it again on a new one (the chaos run's database restart left a
    relay failing every round on the connection the pool had taken back)."""
    relay, notices = _wired(counted.pool, broker, scratch_schema)
    relay.start()
    notices.start()
    try:
        await _asleep(relay, for_s=30)
        # Only this relay's lock: other tests' and services' relays share the cluster.
        holders = await _lock_holders(counted.pool, relay.channel)
        assert len(holders) == 1
        ended = await counted.pool.fetchval(
            "SELECT bool_and(pg_terminate_backend(pid)) FROM unnest($1::int[]) AS pid", holders
        )
        assert ended
        await asyncio.sleep(0.5)
        async with counted.pool.acquire() as connection, connection.transaction():
            await add_to_outbox(
                connection,
                topic=scratch_topic,
                key="referral-l",
                message=task_update("referral-l", "step 1"),
            )
        await eventually(
            lambda: _published(counted.pool, "referral-l"), timeout=10, what="the publication"
        )
        new_holders = await _lock_holders(counted.pool, relay.channel)
        assert len(new_holders) == 1
        assert new_holders != holders
    finally:
        await notices.stop()
        await relay.stop()
