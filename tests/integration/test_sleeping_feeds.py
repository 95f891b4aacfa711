"""The live feeds of the clinicians' pages sleep until a NOTIFY or a lost listener wakes them:
an idle referral page feed and an idle notifier live feed send the database nothing for a
minute (every 15 s they looked: the page feed for an entry nobody numbered and at its
connection, the live feed at its connection), and when the server ends their listening
connection they listen again within seconds and wake the open pages (a NOTIFY sent meanwhile
was lost), not at the minute's check. Each listens through its service's one listener
(``DatabaseNotices``), as the services wire them: one listening connection per service.

Each feed runs with its production intervals on a private schema migrated by its service's own
history; every statement it sends is counted with asyncpg's query logger."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import asyncpg
import pytest

from services.notifier.workers.live_feed import LiveFeed
from services.referral.workers.page_feed import PageFeed
from shared.workers import DatabaseNotices
from tests.use_case_database import CountedPool, migrated_schema, stack_postgres_url

pytestmark = pytest.mark.integration

# From 3 s to 18 s after the feed started: its first old 15 s look fell in it.
IDLE_S = 15.0
FIRST_ROUND_S = 3.0  # the feed listens, stamps (the page feed) and wakes the pages


@pytest.fixture(scope="module")
def postgres() -> str:
    return stack_postgres_url()


@asynccontextmanager
async def _counted(postgres: str, service: str) -> AsyncIterator[tuple[CountedPool, str]]:
    async with migrated_schema(postgres, service=service) as migrated:
        schema: str = await migrated.fetchval("SELECT current_schema()")
        counted = CountedPool()
        await counted.open(postgres, schema)
        try:
            yield counted, schema
        finally:
            await counted.pool.close()


@dataclass
class IdleFeed:
    """A running feed, an open page subscribed to it, and what it sent while idle."""

    counted: CountedPool
    schema: str
    page: asyncio.Event
    sent_while_idle: list[str]


@pytest.fixture(scope="module")
async def idle_feeds(postgres: str) -> AsyncIterator[dict[str, IdleFeed]]:
    """Both feeds, each on its own schema and counted pool, started together and idle through
    the same window (one after the other, the two windows took 2 x 18 s)."""
    async with AsyncExitStack() as stack:
        referral, referral_schema = await stack.enter_async_context(_counted(postgres, "referral"))
        notifier, notifier_schema = await stack.enter_async_context(_counted(postgres, "notifier"))
        # As services/referral/bootstrap.py and services/notifier/bootstrap.py wire them: each
        # service's one listener hands the feed its notices.
        page_feed = PageFeed(pool=referral.pool, schema=referral_schema)
        live_feed = LiveFeed()
        page = stack.enter_context(page_feed.subscribe())
        live_page = stack.enter_context(live_feed.subscribe("hospital-a"))
        workers = [
            DatabaseNotices(pool=referral.pool, handlers=page_feed.notices()),
            page_feed,
            DatabaseNotices(pool=notifier.pool, handlers={}, payload_handlers=live_feed.notices()),
        ]
        for worker in workers:
            worker.start()
            stack.push_async_callback(worker.stop)
        await asyncio.sleep(FIRST_ROUND_S)
        referral.sent.clear()
        notifier.sent.clear()

        await asyncio.sleep(IDLE_S)

        yield {
            "page": IdleFeed(referral, referral_schema, page, list(referral.sent)),
            "live": IdleFeed(notifier, notifier_schema, live_page, list(notifier.sent)),
        }


async def _end_listener(pool: asyncpg.Pool) -> None:
    """Ends the service's listening connection from the server's side (as a restart or an
    administrator would); a NOTIFY sent before it listens again reaches nobody. Only this
    pool's: the session's services listen on the same channel names in the same cluster."""
    ended = await pool.fetch(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN %'"
        " AND application_name = current_setting('application_name')"
        " AND datname = current_database()",
    )
    # The feed listens through its service's one listener, not on a connection of its own.
    assert len(ended) == 1, f"{len(ended)} listening connections"


async def test_an_idle_page_feed_sends_no_statement_and_a_lost_listener_wakes_the_pages(
    idle_feeds: dict[str, IdleFeed],
) -> None:
    feed = idle_feeds["page"]
    # Every 15 s it looked for an entry nobody numbered and at its connection.
    assert feed.sent_while_idle == []

    feed.page.clear()
    await _end_listener(feed.counted.pool)
    # Listening again a second later, it stamps and wakes the page: far sooner than the
    # minute's check.
    await asyncio.wait_for(feed.page.wait(), timeout=10)


async def test_an_idle_live_feed_sends_no_statement_and_a_lost_listener_wakes_the_pages(
    idle_feeds: dict[str, IdleFeed],
) -> None:
    feed = idle_feeds["live"]
    # Every 15 s it looked at its connection.
    assert feed.sent_while_idle == []

    feed.page.clear()
    await _end_listener(feed.counted.pool)
    await asyncio.wait_for(feed.page.wait(), timeout=10)
