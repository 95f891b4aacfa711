"""Use-case tests of the notifier: its service layer on the real PostgreSQL, each test in a
transaction rolled back at its end; no Kafka, no service process, no HTTP.

Why the real database: what the use cases promise is kept in SQL (a delivery claimed once, the
first acknowledgement wins, an alert escalated once even with two watchers, a replay only of a
failed delivery); fakes would re-implement it. The use cases take the caller's connection, so a
rolled-back transaction isolates each test with no change to the code. A private schema holds
the notifier's tables, migrated by its own Alembic history; the outbox is a table there, so what
would go to Kafka is asserted as rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from shared.db.pool import Connection
from tests.use_case_database import CountedPool, migrated_schema, rolled_back, stack_postgres_url


@pytest.fixture(scope="session")
def notifier_postgres() -> str:
    return stack_postgres_url()


@pytest.fixture(scope="session")
async def notifier_pool(notifier_postgres: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a private schema holding the notifier's tables."""
    async with migrated_schema(notifier_postgres, service="notifier") as pool:
        yield pool


@pytest.fixture
async def connection(notifier_pool: asyncpg.Pool) -> AsyncIterator[Connection]:
    async with rolled_back(notifier_pool) as connection:
        yield connection


@pytest.fixture(scope="module")
async def counted() -> AsyncIterator[CountedPool]:
    """A pool on a private notifier schema of the test module's own, whose statements are
    counted (asyncpg's query logger): for tests whose consumer and dispatcher commit, so no
    rolled-back transaction isolates them."""
    postgres = stack_postgres_url()
    async with migrated_schema(postgres, service="notifier") as migrated:
        schema: str = await migrated.fetchval("SELECT current_schema()")
        counted = CountedPool()
        pool = await counted.open(postgres, schema)
        try:
            yield counted
        finally:
            await pool.close()
