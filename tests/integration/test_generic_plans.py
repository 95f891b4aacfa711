"""The outbox relay's round is planned once per lead, not at every call.

PostgreSQL plans a prepared statement for its parameters (a custom plan) at its first five
calls and then keeps a generic plan only if that costs no more than the custom ones did. The
relay's statement marks a batch over arrays (``unnest($2::bigint[], ...)``), estimated exactly
for its parameters and as 10 rows generically, so on an outbox of realistic size the custom
plan always looks cheaper and the statement was planned again at every call: in the benchmark
0.45-0.87 plans per call of the mark. The relay asks for the generic plan on its lead's
connection, where its rounds run; the count here is PostgreSQL's own
(``pg_prepared_statements`` of that connection).
"""

from __future__ import annotations

import asyncpg
import pytest
from faststream.kafka import KafkaBroker

from shared.db.pool import Connection
from shared.messaging.outbox import add_to_outbox
from shared.messaging.outbox_relay import OutboxRelay
from shared.messaging.topics import Topic
from tests.support import task_update

pytestmark = pytest.mark.integration

# Published rows the outbox keeps until retention drops them (a day of a busy hospital's).
KEPT_ROWS = 5000
WARM_UP_ROUNDS = 6
COUNTED_ROUNDS = 10


async def _custom_plans(connection: Connection) -> dict[str, int]:
    """Custom plans so far of each outbox statement prepared on ``connection``."""
    rows = await connection.fetch(
        """
        SELECT statement, custom_plans FROM pg_prepared_statements
        WHERE statement LIKE '%outbox%' AND statement NOT LIKE '%pg_prepared_statements%'
        """
    )
    return {" ".join(row["statement"].split())[:40]: row["custom_plans"] for row in rows}


async def test_the_relays_round_is_not_planned_again_at_every_call(
    relay_pool: asyncpg.Pool,
    relay_broker: KafkaBroker,
    scratch_schema: str,
    scratch_topic: Topic,
) -> None:
    pool = relay_pool
    await pool.execute(
        """
        INSERT INTO outbox (message_id, topic, message_key, event_code, sequence, payload,
                            published_at)
        SELECT 'kept-' || n, 'kept', 'referral-' || n / 4, 'clinical-update', n % 4 + 1,
               '\\x7b7d', now()
        FROM generate_series(1, $1::int) AS n
        """,
        KEPT_ROWS,
    )
    await pool.execute("ANALYZE outbox")
    relay = OutboxRelay(
        pool=pool, broker=relay_broker, producer_name="itest", schema=scratch_schema
    )

    async def one_referral_event(n: int) -> None:
        async with pool.acquire() as connection:
            key = f"referral-new-{n}"
            await add_to_outbox(connection, topic=scratch_topic, key=key, message=task_update(key))
        await relay.tick()  # leads (its first round), sends the row, marks the one before

    try:
        for n in range(WARM_UP_ROUNDS):
            await one_referral_event(n)
        leader = relay._leader
        assert leader is not None
        warmed_up = await _custom_plans(leader)
        for n in range(WARM_UP_ROUNDS, WARM_UP_ROUNDS + COUNTED_ROUNDS):
            await one_referral_event(n)
        counted = await _custom_plans(leader)
    finally:
        await relay.stop()

    assert any("UPDATE outbox" in statement for statement in counted), counted
    planned_again = {statement: counted[statement] - warmed_up[statement] for statement in counted}
    assert planned_again == dict.fromkeys(counted, 0)
