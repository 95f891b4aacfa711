"""The live feed of the clinicians' pages on the real PostgreSQL: positions grow in commit order
(a page resuming after position n misses nothing committed later), and each hospital's read of
the feed holds only the referrals it sends or receives."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import TypeVar

import asyncpg
import pytest

from services.referral.adapters import page_events, repository, timeline_repository
from services.referral.adapters.page_events import PageEvent
from services.referral.entrypoints.consumers import wire_consumers
from services.referral.service import board
from services.referral.service.board import BoardUser
from services.referral.service.intake import request_referral
from services.referral.workers.page_feed import PageFeed
from shared.db.pool import Connection, create_pool
from shared.fhir.codes import EventCode
from shared.messaging.topics import NOTIFICATION_OUTCOMES
from shared.workers import DatabaseNotices
from tests.delivery_outcomes import every_outcome_of, page_delivery
from tests.integration.use_cases.support import (
    COMMUNITY,
    CONTEXT,
    FAR_CENTRE,
    NEAR_CENTRE,
    OneConnectionPool,
    referral_request,
)
from tests.support import eventually
from tests.use_case_database import sent_statements
from tests.wired_consumers import WiredConsumers, relayed_record

E = EventCode
T = TypeVar("T")


async def _schema(connection: Connection) -> str:
    schema: str = await connection.fetchval("SELECT current_schema()")
    return schema


async def _feed(connection: Connection, hospital: str | None, after: int) -> list[PageEvent]:
    return await page_events.events_after(connection, hospital_id=hospital, after=after, limit=100)


async def test_each_hospital_reads_only_its_referrals_in_the_feed(connection: Connection) -> None:
    schema = await _schema(connection)
    await page_events.stamp_committed(connection, schema=schema)
    start = await page_events.latest_position(connection)
    referral_id = await request_referral(connection, request=referral_request(), context=CONTEXT)
    hub = BoardUser(user_id="u1", display_name="Dr. Hub", hospital_id=NEAR_CENTRE)
    await board.acknowledge(
        connection, referral_id=referral_id, user=hub, now=datetime.now(UTC), context=CONTEXT
    )

    stamped = await page_events.stamp_committed(connection, schema=schema)

    assert stamped == 2
    expected = [(referral_id, E.REFERRAL_REQUESTED), (referral_id, E.NOTIFICATION_ACKNOWLEDGED)]
    for hospital in (COMMUNITY, NEAR_CENTRE, None):
        got = await _feed(connection, hospital, start)
        assert [(e.referral_id, e.event_code) for e in got] == expected, hospital
        assert [e.position for e in got] == [start + 1, start + 2]
    assert await _feed(connection, FAR_CENTRE, start) == []
    [_, acknowledged] = await _feed(connection, NEAR_CENTRE, start)
    assert acknowledged.data() == {
        "referral_id": referral_id,
        "event": "notification-acknowledged",
        "status": "requested",
        "requester": COMMUNITY,
        "owner": NEAR_CENTRE,
    }
    # A page that saw the first event resumes with exactly the second.
    assert await _feed(connection, NEAR_CENTRE, start + 1) == [acknowledged]


@pytest.fixture
async def two_hospitals(referral_pool: asyncpg.Pool) -> AsyncIterator[tuple[str, str]]:
    """Two hospitals of their own, for a test that must commit (and removes what it wrote)."""
    suffix = uuid.uuid4().hex[:8]
    spoke, hub = f"feed-spoke-{suffix}", f"feed-hub-{suffix}"
    yield spoke, hub
    async with referral_pool.acquire() as connection:
        await connection.execute(
            """
            DELETE FROM timeline_entry
            WHERE referral_id IN (SELECT id FROM referral WHERE requester_org = $1)
            """,
            spoke,
        )
        await connection.execute("DELETE FROM referral WHERE requester_org = $1", spoke)


async def _referral(connection: Connection, *, spoke: str, hub: str) -> str:
    referral_id = f"feed-{uuid.uuid4()}"
    await repository.insert_referral(
        connection,
        request=referral_request(referral_id=referral_id, requester_org=spoke, owner_org=hub),
        routing={},
    )
    return referral_id


async def _step(connection: Connection, referral_id: str) -> None:
    await timeline_repository.add_timeline_entry(
        connection,
        referral_id=referral_id,
        event_code=E.REFERRAL_REQUESTED.value,
        occurred_at=datetime.now(UTC),
        source="test",
        message_id=None,
        detail={},
    )


async def test_an_entry_committed_late_comes_after_what_a_page_has_seen(
    referral_pool: asyncpg.Pool, two_hospitals: tuple[str, str]
) -> None:
    spoke, hub = two_hospitals
    async with referral_pool.acquire() as setup:
        slow_referral = await _referral(setup, spoke=spoke, hub=hub)
        quick_referral = await _referral(setup, spoke=spoke, hub=hub)
    schema = await _schema_of(referral_pool)
    async with referral_pool.acquire() as slow, referral_pool.acquire() as quick:
        slow_transaction = slow.transaction()
        await slow_transaction.start()
        await _step(slow, slow_referral)  # the lower id, not committed yet
        async with quick.transaction():
            await _step(quick, quick_referral)
        async with quick.transaction():
            await page_events.stamp_committed(quick, schema=schema)
        seen = await _feed(quick, hub, 0)
        assert [e.referral_id for e in seen] == [quick_referral]
        await slow_transaction.commit()
        async with quick.transaction():
            await page_events.stamp_committed(quick, schema=schema)

        missed = await _feed(quick, hub, seen[-1].position)

    assert [e.referral_id for e in missed] == [slow_referral]


async def _schema_of(pool: asyncpg.Pool) -> str:
    async with pool.acquire() as connection:
        return await _schema(connection)


@contextlib.asynccontextmanager
async def _process_feed(
    postgres: str,
    schema: str,
    prepare: Callable[[PageFeed], None] | None = None,
    **options: float,
) -> AsyncIterator[PageFeed]:
    """A referral process's page feed, as the service runs it: its own pool, the process's
    listener on one connection and the feed stamping on another (``prepare``: before they
    start)."""
    pool = await create_pool(postgres, schema=schema, max_size=2)
    feed = PageFeed(pool=pool, schema=schema, **options)
    if prepare is not None:
        prepare(feed)
    notices = DatabaseNotices(pool=pool, handlers=feed.notices())
    notices.start()
    feed.start()
    try:
        yield feed
    finally:
        await feed.stop()
        await notices.stop()
        await pool.close()


async def test_the_feed_worker_numbers_a_commit_and_wakes_the_open_pages(
    referral_pool: asyncpg.Pool, postgres: str, two_hospitals: tuple[str, str]
) -> None:
    spoke, hub = two_hospitals
    schema = await _schema_of(referral_pool)
    async with (
        _process_feed(postgres, schema, recheck_s=60) as feed,
        referral_pool.acquire() as connection,
    ):
        referral_id = await _referral(connection, spoke=spoke, hub=hub)
        with feed.subscribe() as changed:
            await asyncio.sleep(0.5)  # the worker's first round (stamp, wake) is done
            changed.clear()
            await _step(connection, referral_id)  # committed: NOTIFY wakes the stamper

            # recheck_s is 60 s: within the deadline only NOTIFY can have done it.
            await asyncio.wait_for(changed.wait(), timeout=30)
        seen = await eventually(
            lambda: _feed(connection, hub, 0), timeout=20, what="the numbered step"
        )

    assert [e.referral_id for e in seen] == [referral_id]


async def test_echoes_fetched_together_wake_the_open_pages(
    referral_pool: asyncpg.Pool, postgres: str, two_hospitals: tuple[str, str]
) -> None:
    spoke, hub = two_hospitals
    schema = await _schema_of(referral_pool)
    async with (
        _process_feed(postgres, schema, recheck_s=60) as feed,
        referral_pool.acquire() as connection,
    ):
        referral_id = await _referral(connection, spoke=spoke, hub=hub)
        delivery = dataclasses.replace(
            page_delivery(), id=f"d-{referral_id}", referral_id=referral_id
        )
        sent, _, delivered, *_ = every_outcome_of(delivery)
        service = WiredConsumers(connection, service_name="referral")
        wire_consumers(service, CONTEXT)  # type: ignore[arg-type]
        with feed.subscribe() as changed:
            await asyncio.sleep(0.5)  # the worker's first round (stamp, wake) is done
            changed.clear()
            # Both in the one statement of the records fetched together, committed.
            assert await service.deliver_together(
                [
                    relayed_record(NOTIFICATION_OUTCOMES, outcome, key=referral_id)
                    for outcome in (sent, delivered)
                ]
            )

            # recheck_s is 60 s: within the deadline only NOTIFY can have done it.
            await asyncio.wait_for(changed.wait(), timeout=30)
        seen = await eventually(
            lambda: _feed(connection, hub, 0), timeout=20, what="the numbered steps"
        )
        await connection.execute(
            "DELETE FROM inbox WHERE message_id = ANY($1::text[])",
            [sent.message_id, delivered.message_id],
        )

    assert [e.event_code for e in seen] == [
        E.NOTIFICATION_SENT.value,
        E.NOTIFICATION_DELIVERED.value,
    ]


async def test_the_feed_worker_numbers_a_burst_of_commits_in_one_transaction(
    referral_pool: asyncpg.Pool, postgres: str, two_hospitals: tuple[str, str]
) -> None:
    spoke, hub = two_hospitals
    schema = await _schema_of(referral_pool)
    stamps: list[int] = []

    def count_stamps(feed: PageFeed) -> None:
        stamp = feed.stamp

        async def counted_stamp() -> int:
            stamps.append(await stamp())
            return stamps[-1]

        feed.stamp = counted_stamp  # type: ignore[method-assign]

    # A generous gathering time: the five commits below come well within it on a busy machine.
    async with (
        _process_feed(postgres, schema, count_stamps, recheck_s=60, gather_s=3),
        referral_pool.acquire() as connection,
    ):
        referral_id = await _referral(connection, spoke=spoke, hub=hub)
        await eventually(lambda: _as_future(stamps), what="the worker's first round")
        stamps.clear()
        # A referral's steps, each committed on its own, just after a stamp: one burst.
        for _ in range(5):
            await _step(connection, referral_id)

        async def all_numbered() -> list[PageEvent] | None:
            seen = await _feed(connection, hub, 0)
            return seen if len([e for e in seen if e.referral_id == referral_id]) == 5 else None

        await eventually(all_numbered, timeout=30, what="the five numbered steps")

    assert [count for count in stamps if count] == [5]


async def _as_future(value: list[T]) -> list[T]:
    return value


async def test_a_stamp_is_one_round_trip_and_notifies_nobody(
    referral_pool: asyncpg.Pool, two_hospitals: tuple[str, str]
) -> None:
    spoke, hub = two_hospitals
    schema = await _schema_of(referral_pool)
    async with referral_pool.acquire() as connection:
        referral_id = await _referral(connection, spoke=spoke, hub=hub)
        await PageFeed(pool=referral_pool, schema=schema).stamp()
        await _step(connection, referral_id)
        await _step(connection, referral_id)
        feed = PageFeed(pool=OneConnectionPool(connection), schema=schema)  # type: ignore[arg-type]
        told: list[str] = []

        def tell(*args: object) -> None:
            told.append(str(args[2]))

        # The stamp's own channel until it stopped notifying, and one that marks the end: the
        # notifications of a connection come in commit order.
        channels = [f"page_feed_{schema}", f"stamp_test_done_{schema}"]
        for channel in channels:
            await connection.add_listener(channel, tell)

        async with sent_statements(connection) as sent:
            stamped = await feed.stamp()

        await connection.execute(f"NOTIFY {channels[1]}")
        await eventually(lambda: _as_future(told), what="the end of the test's notifications")
        seen = await _feed(connection, hub, 0)
        again = await feed.stamp()
        for channel in channels:
            await connection.remove_listener(channel, tell)

    # The lock and the numbering in one round trip, with no BEGIN and COMMIT around them: was 5
    # (BEGIN, the lock, the numbering, the NOTIFY, COMMIT).
    assert len(sent) == 1, "\n".join(sent)
    assert stamped == 2
    assert [e.referral_id for e in seen] == [referral_id, referral_id]
    assert [e.position for e in seen] == [seen[0].position, seen[0].position + 1]
    # No NOTIFY: a notifying commit wakes every listening backend of the database and waits for
    # every other notifying commit of the cluster. Every process stamps on the entry's own
    # NOTIFY and wakes its pages itself (the test below). Was told the stamp's channel first.
    assert told == [channels[1]]
    assert again == 0


async def test_every_process_wakes_its_pages_after_a_step_another_may_have_numbered(
    referral_pool: asyncpg.Pool, postgres: str, two_hospitals: tuple[str, str]
) -> None:
    """Two referral processes, each with its listener and its feed: a committed step wakes the
    open pages of both, and each then reads it numbered, whichever process numbered it."""
    spoke, hub = two_hospitals
    schema = await _schema_of(referral_pool)
    async with contextlib.AsyncExitStack() as stack:
        pages: list[asyncio.Event] = []
        for _ in range(2):
            feed = await stack.enter_async_context(_process_feed(postgres, schema, recheck_s=60))
            pages.append(stack.enter_context(feed.subscribe()))
        async with referral_pool.acquire() as connection:
            referral_id = await _referral(connection, spoke=spoke, hub=hub)
            await asyncio.sleep(1)  # both listen, and their first rounds are done
            for page in pages:
                page.clear()
            start = await page_events.latest_position(connection)
            await _step(connection, referral_id)

            # recheck_s is 60 s: within the deadline only the step's NOTIFY can have done it.
            for page in pages:
                await asyncio.wait_for(page.wait(), timeout=30)
                # Woken after its process's stamp: the step is numbered by then.
                seen = await _feed(connection, hub, start)
                assert [e.referral_id for e in seen] == [referral_id]


async def test_a_stamp_waiting_for_anothers_lock_numbers_after_what_it_committed(
    referral_pool: asyncpg.Pool, two_hospitals: tuple[str, str]
) -> None:
    """Two processes stamp at once: the second waits for the first's lock and then numbers
    from what the first committed, so no position is given twice."""
    spoke, hub = two_hospitals
    schema = await _schema_of(referral_pool)
    async with referral_pool.acquire() as first, referral_pool.acquire() as second:
        referral_id = await _referral(first, spoke=spoke, hub=hub)
        await page_events.stamp_committed(first, schema=schema)
        await _step(first, referral_id)
        holding = first.transaction()
        await holding.start()
        assert await page_events.stamp_committed(first, schema=schema) == 1
        await _step(second, referral_id)  # committed while the first holds the lock
        waiting = asyncio.create_task(page_events.stamp_committed(second, schema=schema))
        await asyncio.sleep(0.5)
        assert not waiting.done()  # behind the first's lock
        await holding.commit()
        assert await asyncio.wait_for(waiting, timeout=10) == 1

        seen = await _feed(first, hub, 0)

    positions = [e.position for e in seen]
    assert len(positions) == len(set(positions)) == 2, positions
