"""A row written by the process whose relay leads wakes that relay in the process, after the
commit, with no NOTIFY (shared/messaging/outbox_leader.py): the commit takes no cluster-wide
NOTIFY lock and wakes no listening backend. A row written by another process (another
instance's pool) still NOTIFYs, and when the lead moves to another instance, the old leader's
rows NOTIFY it.

Each "process" is a pool made by shared/db/pool.py's ``create_pool`` (its own instance), with
its relay and listener wired as shared/runtime.py wires them, on a scratch schema."""

from __future__ import annotations

import asyncpg
import pytest
from faststream.kafka import KafkaBroker

from shared.db.pool import create_pool
from shared.messaging.outbox import add_to_outbox
from shared.messaging.outbox_relay import OutboxRelay
from shared.messaging.topics import Topic
from shared.workers import DatabaseNotices
from tests.integration.test_outbox_relay_sleeps import _asleep, _lock_holders, _published, _wired
from tests.support import TestStack, eventually, task_update

pytestmark = pytest.mark.integration


async def _outbox_notices(
    listener: asyncpg.Connection, schema: str, write: asyncpg.Pool, key: str, topic: Topic
) -> int:
    """How many NOTIFYs of the outbox's channel one committed row sends, written through
    ``write``."""
    channels = [f"outbox_{schema}", f"outbox_test_done_{schema}"]
    heard: list[str] = []

    def hear(_connection: object, _pid: int, channel: str, _payload: object) -> None:
        heard.append(channel)

    for channel in channels:
        await listener.add_listener(channel, hear)
    async with write.acquire() as connection, connection.transaction():
        await add_to_outbox(connection, topic=topic, key=key, message=task_update(key, "step 1"))
    # A connection's notifications come in commit order: this one marks the end.
    await listener.execute(f"NOTIFY {channels[1]}")

    async def ended() -> bool:
        return channels[1] in heard

    await eventually(ended, what="the end of the test's notifications")
    for channel in channels:
        await listener.remove_listener(channel, hear)
    return heard.count(channels[0])


async def _started(
    pool: asyncpg.Pool, broker: KafkaBroker, schema: str
) -> tuple[OutboxRelay, DatabaseNotices]:
    relay, notices = _wired(pool, broker, schema)
    relay.start()
    notices.start()
    return relay, notices


async def test_the_leaders_own_rows_notify_nobody_and_another_instances_do(
    stack: TestStack, relay_broker: KafkaBroker, scratch_schema: str, scratch_topic: Topic
) -> None:
    first = await create_pool(stack.database_url, schema=scratch_schema, max_size=4)
    second = await create_pool(stack.database_url, schema=scratch_schema, max_size=4)
    listener = await asyncpg.connect(stack.database_url)
    broker = relay_broker
    leader, leader_notices = await _started(first, broker, scratch_schema)
    try:
        await _asleep(leader, for_s=30)
        rounds = leader.rounds

        # Was 1: every outbox commit notified, though its only listener that acts on it is
        # the relay of the process that wrote it (the one that leads, with one instance).
        assert (
            await _outbox_notices(listener, scratch_schema, first, "referral-a", scratch_topic) == 0
        )
        # Woken in the process, after the commit: far sooner than the minute's re-check.
        await eventually(lambda: _published(first, "referral-a"), timeout=10, what="publication")
        assert leader.rounds > rounds

        # Another instance (whose relay waits for the lock) writes: its commit wakes the leader.
        follower, follower_notices = await _started(second, broker, scratch_schema)
        assert (
            await _outbox_notices(listener, scratch_schema, second, "referral-b", scratch_topic)
            == 1
        )
        await eventually(lambda: _published(first, "referral-b"), timeout=10, what="publication")

        # The leader's lock connection is lost: the other instance leads, and names itself.
        holders = await _lock_holders(first, leader.channel)
        assert len(holders) == 1
        await first.execute("SELECT pg_terminate_backend($1)", holders[0])

        async def moved() -> bool:
            holders_now = await _lock_holders(first, leader.channel)
            return bool(holders_now) and holders_now != holders and follower._leading()

        await eventually(moved, timeout=15, what="the lead moved to the other instance")
        assert (
            await _outbox_notices(listener, scratch_schema, first, "referral-c", scratch_topic) == 1
        )
        await eventually(lambda: _published(first, "referral-c"), timeout=10, what="publication")
        assert (
            await _outbox_notices(listener, scratch_schema, second, "referral-d", scratch_topic)
            == 0
        )
        await eventually(lambda: _published(first, "referral-d"), timeout=10, what="publication")
        await follower_notices.stop()
        await follower.stop()
    finally:
        await leader_notices.stop()
        await leader.stop()
        await listener.close()
        await first.close()
        await second.close()
