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

import asyncio
import re

import asyncpg
import pytest
from faststream.kafka import KafkaBroker

from shared.messaging.outbox import OutboxEvent, OutboxRelay, add_all_to_outbox
from shared.messaging.topics import Topic
from tests.support import task_update

pytestmark = pytest.mark.integration

ROWS = 20
_RELATION = re.compile(r"rel (\d+/\d+/\d+)")


async def _outbox_index_files(pool: asyncpg.Pool) -> set[str]:
    """The outbox's indexes as the WAL names them (tablespace/database/file)."""
    rows = await pool.fetch(
        """
        SELECT concat_ws('/', (SELECT oid FROM pg_tablespace WHERE spcname = 'pg_default'),
                         (SELECT oid FROM pg_database WHERE datname = current_database()),
                         pg_relation_filenode(i.indexrelid)) AS file
        FROM pg_index AS i WHERE i.indrelid = 'outbox'::regclass
        """
    )
    return {row["file"] for row in rows}


async def _wal_position(pool: asyncpg.Pool) -> str:
    position: str = await pool.fetchval("SELECT pg_current_wal_insert_lsn()::text")
    return position


async def _index_entries(pool: asyncpg.Pool, files: set[str], start: str, end: str) -> int:
    """Leaf entries written to the outbox's indexes between two WAL positions (an empty index's
    first page, made by its first entry, is not counted; read once the
    WAL writer has flushed them: the test cluster commits without waiting for the disk)."""
    for _ in range(100):
        if await pool.fetchval("SELECT pg_current_wal_flush_lsn() >= $1::text::pg_lsn", end):
            break
        await asyncio.sleep(0.1)
    records = await pool.fetch(
        """
        SELECT block_ref FROM public.pg_get_wal_records_info($1::text::pg_lsn, $2::text::pg_lsn)
        WHERE resource_manager = 'Btree' AND record_type IN ('INSERT_LEAF', 'INSERT_POST')
        """,
        start,
        end,
    )
    return sum(
        1
        for record in records
        if any(name in files for name in _RELATION.findall(record["block_ref"] or ""))
    )


async def test_an_outbox_row_costs_an_entry_only_in_the_indexes_that_are_read(
    relay_pool: asyncpg.Pool,
    relay_broker: KafkaBroker,
    scratch_schema: str,
    scratch_topic: Topic,
) -> None:
    pool = relay_pool
    await pool.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect SCHEMA public")
    files = await _outbox_index_files(pool)
    keys = [f"referral-index-{n}" for n in range(ROWS)]
    before_insert = await _wal_position(pool)
    async with pool.acquire() as connection:
        await add_all_to_outbox(
            connection,
            [
                OutboxEvent(topic=scratch_topic, key=key, message=task_update(key, "update"))
                for key in keys
            ],
        )
    after_insert = await _wal_position(pool)
    relay = OutboxRelay(
        pool=pool, broker=relay_broker, producer_name="itest", schema=scratch_schema
    )
    try:
        assert await relay.publish_pending() == ROWS  # sent; marked by the next statement
        before_mark = await _wal_position(pool)
        await relay.mark_sent()
        after_mark = await _wal_position(pool)
    finally:
        await relay.stop()
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0

    inserted = await _index_entries(pool, files, before_insert, after_insert)
    marked = await _index_entries(pool, files, before_mark, after_mark)
    # The key, the unsent rows, the key's numbers (and the message id: 4 before).
    assert inserted == ROWS * 3, inserted
    # The row's new version under its key and its number; an unsent row's entry is not made
    # for a sent one (and the message id: 3 before).
    assert marked == ROWS * 2, marked
