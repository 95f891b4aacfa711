"""Index entries an outbox row costs PostgreSQL: at its insert and at the relay's mark.

Every index entry is a B-tree descent, a page change and a WAL record. The outbox keeps the
indexes something reads: its key (the mark), the unsent rows (the relay's claim) and a key's
events by number (the relay's next number, the console's hops). The unique index on the
message id was read by nothing (shared/db/ddl.py: OUTBOX_MESSAGE_ID_UNINDEXED).

The entries are counted from the WAL (pg_walinspect) between the statement's start and end,
only the records of the scratch outbox's own indexes: other tests' writes to the shared
cluster are not counted.
"""

from __future__ import annotations

import asyncpg
import pytest
from faststream.kafka import KafkaBroker

from shared.messaging.outbox import OutboxEvent, add_all_to_outbox
from shared.messaging.outbox_relay import OutboxRelay
from shared.messaging.topics import Topic
from tests.support import task_update
from tests.wal_index_entries import index_entries, index_files, wal_position

pytestmark = pytest.mark.integration

ROWS = 20


async def test_an_outbox_row_costs_an_entry_only_in_the_indexes_that_are_read(
    relay_pool: asyncpg.Pool,
    relay_broker: KafkaBroker,
    scratch_schema: str,
    scratch_topic: Topic,
) -> None:
    pool = relay_pool
    files = await index_files(pool, "outbox")
    keys = [f"referral-index-{n}" for n in range(ROWS)]
    before_insert = await wal_position(pool)
    async with pool.acquire() as connection:
        await add_all_to_outbox(
            connection,
            [
                OutboxEvent(topic=scratch_topic, key=key, message=task_update(key, "update"))
                for key in keys
            ],
        )
    after_insert = await wal_position(pool)
    relay = OutboxRelay(
        pool=pool, broker=relay_broker, producer_name="itest", schema=scratch_schema
    )
    try:
        assert await relay.publish_pending() == ROWS  # sent; marked by the next statement
        before_mark = await wal_position(pool)
        await relay.mark_sent()
        after_mark = await wal_position(pool)
    finally:
        await relay.stop()
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0

    inserted = await index_entries(pool, files, before_insert, after_insert, flusher=pool)
    marked = await index_entries(pool, files, before_mark, after_mark, flusher=pool)
    # The key, the unsent rows, the key's numbers (and the message id: 4 before).
    assert inserted == ROWS * 3, inserted
    # The row's new version under its key and its number; an unsent row's entry is not made
    # for a sent one (and the message id: 3 before).
    assert marked == ROWS * 2, marked
