"""The outbox relay's round reads the batch's rows by their indexes, however the table looked
when its plan was made.

The relay's lead connection asks for a generic plan (test_generic_plans.py), made once, at its
first round. On a young outbox (a few rows, no statistics yet) that plan marked the batch sent
by joining its ids to a sequential scan of the whole table, and it stayed while published rows
(kept for the retention period) filled the table: in the benchmark every round read about
1,000 buffers at 3,000 rows, the most buffers of any statement in a phase at 50/s. Counted
here with the table's sequential-scan statistics, read once the relay's backend has exited
(a backend hands its statistics on when it ends)."""

from __future__ import annotations

import asyncpg
import pytest
from faststream.kafka import KafkaBroker

from shared.db.pool import create_pool
from shared.messaging.outbox import OutboxEvent, add_all_to_outbox
from shared.messaging.outbox_relay import OutboxRelay
from shared.messaging.topics import Topic
from tests.support import TestStack, eventually, task_update

pytestmark = pytest.mark.integration

HISTORY = 3000  # rows published before, kept for retention
NEW_ROWS = 10


async def _add_rows(pool: asyncpg.Pool, topic: Topic, keys: list[str]) -> None:
    async with pool.acquire() as connection:
        await add_all_to_outbox(
            connection,
            [OutboxEvent(topic=topic, key=key, message=task_update(key)) for key in keys],
        )


async def test_a_round_planned_on_a_young_outbox_does_not_scan_the_grown_table(
    stack: TestStack, relay_broker: KafkaBroker, scratch_schema: str, scratch_topic: Topic
) -> None:
    pool = await create_pool(stack.database_url, schema=scratch_schema, max_size=2)
    try:
        # The lead's first rounds: its round is planned while the outbox holds two rows.
        relay = OutboxRelay(
            pool=pool,
            broker=relay_broker,
            producer_name="itest",
            schema=scratch_schema,
            batch_size=1,
        )
        await _add_rows(pool, scratch_topic, ["referral-young-1", "referral-young-2"])
        await relay.tick()
        await pool.execute(
            """
            INSERT INTO outbox (message_id, topic, message_key, event_code, sequence, payload,
                                published_at)
            SELECT 'kept-' || n, 'kept', 'referral-kept-' || n / 3, 'clinical-update',
                   n % 3 + 1, '\\x7b7d', now()
            FROM generate_series(1, $1::int) AS n
            """,
            HISTORY,
        )
        # One row a round: each round marks the row the round before sent.
        await _add_rows(pool, scratch_topic, [f"referral-grown-{n}" for n in range(NEW_ROWS)])
        await relay.tick()
        await relay.stop()
    finally:
        await pool.close()

    reader = await asyncpg.connect(stack.database_url)
    try:

        async def marks_counted() -> asyncpg.Record | None:
            await reader.execute("SELECT pg_stat_clear_snapshot()")
            row = await reader.fetchrow(
                """
                SELECT seq_scan, seq_tup_read, n_tup_upd FROM pg_stat_user_tables
                WHERE schemaname = $1 AND relname = 'outbox'
                """,
                scratch_schema,
            )
            return row if row is not None and row["n_tup_upd"] >= NEW_ROWS + 2 else None

        counted = await eventually(marks_counted, timeout=20, what="the relay's statistics")
        await reader.execute("SELECT set_config('search_path', $1, false)", scratch_schema)
        unsent = await reader.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
    finally:
        await reader.close()
    assert unsent == 0
    # Was a whole table a round: 11 rounds over 3,000 rows and more (33,000 rows read).
    assert counted["seq_tup_read"] < HISTORY, dict(counted)
