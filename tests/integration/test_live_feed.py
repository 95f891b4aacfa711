"""The live feed on the real PostgreSQL: a page that reads on from the last event it saw misses
none while many senders publish at once (ids follow commit order per hospital), a delivery sent
twice is one event, and old events are let go."""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from services.notifier.adapters import live_events
from shared.db.pool import create_pool
from tests.support import TestStack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def notifier_pool(stack: TestStack) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(stack.database_url, schema="notifier", max_size=12)
    yield pool
    await pool.close()


async def test_a_page_reading_on_from_its_last_event_misses_none_under_concurrent_senders(
    notifier_pool: asyncpg.Pool,
) -> None:
    hospital = f"itest-{secrets.token_hex(4)}"
    senders, per_sender = 8, 12
    finished = asyncio.Event()

    async def sender(number: int) -> None:
        for index in range(per_sender):
            async with notifier_pool.acquire() as connection, connection.transaction():
                await live_events.publish(
                    connection,
                    organization=hospital,
                    kind="notification",
                    delivery_id=f"{hospital}-{number}-{index}",
                    payload={"sender": number, "index": index},
                )
                # Commit late and at random: where id order and commit order would part.
                await asyncio.sleep(random.uniform(0, 0.01))

    seen: list[int] = []

    async def page() -> None:
        after = 0
        while True:
            done = finished.is_set()
            async with notifier_pool.acquire() as connection:
                events = await live_events.events_after(
                    connection, organization=hospital, after_id=after
                )
            seen.extend(event.id for event in events)
            after = events[-1].id if events else after
            if done and not events:
                return
            await asyncio.sleep(0.002)

    reader = asyncio.create_task(page())
    await asyncio.gather(*(sender(n) for n in range(senders)))
    finished.set()
    await reader

    async with notifier_pool.acquire() as connection:
        everything = await live_events.events_after(
            connection, organization=hospital, after_id=0, limit=1000
        )
    assert len(everything) == senders * per_sender
    assert seen == [event.id for event in everything]  # each once, in order, none skipped


async def test_a_delivery_published_twice_is_one_event_and_old_events_go(
    notifier_pool: asyncpg.Pool,
) -> None:
    hospital = f"itest-{secrets.token_hex(4)}"
    async with notifier_pool.acquire() as connection:
        for expected in (True, False):
            async with connection.transaction():
                published = await live_events.publish(
                    connection,
                    organization=hospital,
                    kind="notification",
                    delivery_id=f"{hospital}-d",
                    payload={"text": "alert"},
                )
            assert published is expected
        (event,) = await live_events.events_after(connection, organization=hospital, after_id=0)
        assert event.payload == {"text": "alert"}
        await connection.execute(
            "UPDATE live_event SET created_at = now() - interval '8 days' WHERE organization = $1",
            hospital,
        )
        assert (
            await live_events.last_id_before(
                connection, organization=hospital, before=datetime.now(UTC) - timedelta(days=1)
            )
            == event.id
        )
        forgotten = await live_events.forget_older_than(
            connection, before=datetime.now(UTC) - timedelta(days=7)
        )
        assert forgotten >= 1
        assert await live_events.events_after(connection, organization=hospital, after_id=0) == []
