"""A service's statements are planned once per connection, not at every call.

PostgreSQL plans a prepared statement for its parameters (a custom plan) at its first five
calls and then keeps a generic plan only if that costs no more than the custom ones did. A
statement over arrays (``unnest($1::bigint[])``: the outbox relay's mark, every outbox INSERT)
is estimated exactly for its parameters and 10 rows generically, so on a table of realistic
size the custom plan always looks cheaper and the statement was planned again at every call:
in the benchmark the relay's mark 0.45-0.87 plans per call, and planning took 4.8 ms of the
PostgreSQL's time per referral at 10/s. The services' pools ask for the generic plan
(``plan_cache_mode``); the count here is PostgreSQL's own (``pg_prepared_statements``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from faststream.kafka import KafkaBroker

from shared.db.pool import create_pool
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage, build_message
from shared.fhir.models import Task
from shared.messaging.broker import create_broker
from shared.messaging.outbox import OutboxRelay, add_to_outbox
from shared.messaging.topics import Topic
from shared.settings import PlatformSettings
from tests.support import TestStack

pytestmark = pytest.mark.integration

# Published rows the outbox keeps until retention drops them (a day of a busy hospital's).
KEPT_ROWS = 5000
WARM_UP_ROUNDS = 6
COUNTED_ROUNDS = 10


@pytest.fixture
async def one_connection_pool(stack: TestStack, scratch_schema: str) -> AsyncIterator[asyncpg.Pool]:
    """A service's pool with one connection: every statement runs on it, so its prepared
    statements' plan counts are the whole story."""
    pool = await create_pool(stack.database_url, schema=scratch_schema, max_size=1)
    yield pool
    await pool.close()


@pytest.fixture
async def broker(stack: TestStack) -> AsyncIterator[KafkaBroker]:
    kafka = create_broker(
        PlatformSettings(kafka_bootstrap_servers=stack.bootstrap_servers), service_name="itest"
    )
    await kafka.start()
    yield kafka
    await kafka.stop()


def _event(key: str) -> FhirMessage:
    task = Task.model_validate(
        {"resourceType": "Task", "id": key, "status": "requested", "intent": "order"}
    )
    return build_message(
        event=EventCode.CLINICAL_UPDATE,
        sender="Organization/a",
        destinations=["Organization/b"],
        focus=[task],
        source_endpoint="urn:itest",
    )


async def _custom_plans(pool: asyncpg.Pool) -> dict[str, int]:
    """Custom plans so far of each outbox statement prepared on the pool's one connection."""
    async with pool.acquire() as connection:
        rows = await connection.fetch(
            """
            SELECT statement, custom_plans FROM pg_prepared_statements
            WHERE statement LIKE '%outbox%' AND statement NOT LIKE '%pg_prepared_statements%'
            """
        )
    return {" ".join(row["statement"].split())[:40]: row["custom_plans"] for row in rows}


async def test_the_outbox_statements_are_not_planned_again_at_every_call(
    one_connection_pool: asyncpg.Pool,
    broker: KafkaBroker,
    scratch_schema: str,
    scratch_topic: Topic,
) -> None:
    pool = one_connection_pool
    async with pool.acquire() as connection:
        await connection.execute(
            """
            INSERT INTO outbox (message_id, topic, message_key, event_code, sequence, payload,
                                published_at)
            SELECT 'kept-' || n, 'kept', 'referral-' || n / 4, 'clinical-update', n % 4 + 1,
                   '\\x7b7d', now()
            FROM generate_series(1, $1::int) AS n
            """,
            KEPT_ROWS,
        )
        await connection.execute("ANALYZE outbox")
    relay = OutboxRelay(
        pool=pool,
        broker=broker,
        producer_name="itest",
        schema=scratch_schema,
    )

    async def one_referral_event(n: int) -> None:
        async with pool.acquire() as connection:
            key = f"referral-new-{n}"
            await add_to_outbox(connection, topic=scratch_topic, key=key, message=_event(key))
        assert await relay.publish_pending() == 1

    for n in range(WARM_UP_ROUNDS):
        await one_referral_event(n)
    warmed_up = await _custom_plans(pool)
    for n in range(WARM_UP_ROUNDS, WARM_UP_ROUNDS + COUNTED_ROUNDS):
        await one_referral_event(n)
    counted = await _custom_plans(pool)

    # The outbox INSERT and the relay's mark (and claim) were prepared and counted.
    assert any(statement.startswith("INSERT INTO outbox") for statement in counted), counted
    assert any("UPDATE outbox" in statement for statement in counted), counted
    planned_again = {statement: counted[statement] - warmed_up[statement] for statement in counted}
    assert planned_again == dict.fromkeys(counted, 0)
