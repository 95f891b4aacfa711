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

import asyncio
import secrets
from collections.abc import AsyncIterator

import asyncpg
import pytest
from alembic import command

from shared.db.migrations import alembic_config
from shared.db.pool import Connection, create_pool
from tests.support import ROOT, TestStack


@pytest.fixture(scope="session")
def notifier_postgres() -> str:
    """The test stack's PostgreSQL (started if it is not running); Kafka is not needed."""
    stack = TestStack(state_dir=ROOT / ".local-stack" / "test")
    stack.run("bash", "deploy/local/postgres.sh", "start")
    return stack.database_url


@pytest.fixture(scope="session")
async def notifier_pool(notifier_postgres: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a private schema holding the notifier's tables."""
    schema = f"notifier_uc_{secrets.token_hex(4)}"
    config = alembic_config("notifier", notifier_postgres)
    config.attributes["schema"] = schema
    # Alembic runs its own event loop (shared/db/migrations.py): off this one.
    await asyncio.to_thread(command.upgrade, config, "head")
    pool = await create_pool(notifier_postgres, schema=schema, max_size=2)
    yield pool
    await pool.close()
    admin = await asyncpg.connect(notifier_postgres)
    try:
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        await admin.close()


@pytest.fixture
async def connection(notifier_pool: asyncpg.Pool) -> AsyncIterator[Connection]:
    """One transaction for the test, rolled back at its end: nothing a test writes stays."""
    async with notifier_pool.acquire() as connection:
        transaction = connection.transaction()
        await transaction.start()
        try:
            yield connection
        finally:
            await transaction.rollback()
