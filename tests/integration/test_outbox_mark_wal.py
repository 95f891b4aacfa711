"""What the outbox relay's mark writes to PostgreSQL's WAL: the row's sequence and published_at,
not the row again.

A mark cannot be an in-place (heap-only) update (both columns are indexed), so PostgreSQL
writes a new version of the row. Written on the row's own page it logs only the bytes that
differ from the old version's start and end; the two columns are the row's last and its page
keeps room for the new version (shared/db/ddl.py: OUTBOX_MARK_AT_ROW_END). Before, each mark
logged the whole row, its payload included (~1-2 KB in the benchmark, about 13 KB of a
referral's ~57 KB of WAL for its six events).

The WAL is read from the server's insert position around the one statement that marks the
batch, which takes milliseconds: the cluster is shared with other tests, so the bound is loose.
"""

from __future__ import annotations

import asyncpg
import pytest
from faststream.kafka import KafkaBroker

from shared.messaging.outbox import OutboxEvent, add_all_to_outbox
from shared.messaging.outbox_relay import OutboxRelay
from shared.messaging.topics import Topic
from tests.support import task_update
from tests.wal_index_entries import wal_position

pytestmark = pytest.mark.integration

ROWS = 40
# Rows of ~950 bytes (a referral's events' payloads are 1.3-1.6 KB).
DESCRIPTION = "A clinical update of the kind a referral's events carry. " * 20


async def test_marking_a_batch_sent_does_not_log_its_rows_again(
    relay_pool: asyncpg.Pool,
    relay_broker: KafkaBroker,
    scratch_schema: str,
    scratch_topic: Topic,
) -> None:
    pool = relay_pool
    keys = [f"referral-wal-{n}" for n in range(ROWS)]
    async with pool.acquire() as connection:
        await add_all_to_outbox(
            connection,
            [
                OutboxEvent(topic=scratch_topic, key=key, message=task_update(key, DESCRIPTION))
                for key in keys
            ],
        )
    row_bytes: int = await pool.fetchval("SELECT min(pg_column_size(o.*)) FROM outbox AS o")
    relay = OutboxRelay(
        pool=pool, broker=relay_broker, producer_name="itest", schema=scratch_schema
    )
    try:
        assert await relay.publish_pending() == ROWS  # sent; marked by the next statement
        before = await wal_position(pool)
        await relay.mark_sent()
        after = await wal_position(pool)
    finally:
        await relay.stop()
    logged: int = await pool.fetchval(
        "SELECT pg_wal_lsn_diff($1::text::pg_lsn, $2::text::pg_lsn)::bigint", after, before
    )
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
    assert row_bytes > 900
    # The whole rows again: 53 KB for the 40 rows of ~950 bytes (each row's new version and
    # its three index entries). Now the index entries and the two columns: 13.5 KB.
    assert logged < ROWS * row_bytes / 2, (logged, row_bytes)
