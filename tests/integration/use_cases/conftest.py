"""Use-case tests of the referral service: the service layer on the real PostgreSQL, each test in
a transaction rolled back at its end; no Kafka, no service process.

Why the real database and not in-memory fakes: what matters clinically in these use cases is
done in SQL (re-routed referrals share one patient clock, an alert is raised once even when two
instances race, a repeated request is recognised, the hospitals already asked are a recursive
chain); fakes would re-implement that and could agree with the code where the SQL does not.
The handlers take the caller's connection, so a rolled-back transaction isolates each test with no
change to the code. A private schema, migrated by the service's own Alembic history, holds a small
directory of test hospitals; the outbox is a table there, so what would go to Kafka is asserted
as rows (``outbox_messages``).
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
from tests.integration.use_cases.support import TEST_HOSPITALS
from tests.support import ROOT, TestStack


@pytest.fixture(scope="session")
def postgres() -> str:
    """The test stack's PostgreSQL (started if it is not running); Kafka is not needed."""
    stack = TestStack(state_dir=ROOT / ".local-stack" / "test")
    stack.run("bash", "deploy/local/postgres.sh", "start")
    return stack.database_url


@pytest.fixture(scope="session")
async def referral_pool(postgres: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a private schema with the referral service's tables and the test directory."""
    schema = f"usecases_{secrets.token_hex(4)}"
    config = alembic_config("referral", postgres)
    config.attributes["schema"] = schema
    # Alembic runs its own event loop (shared/db/migrations.py): off this one.
    await asyncio.to_thread(command.upgrade, config, "head")
    pool = await create_pool(postgres, schema=schema, max_size=2)
    async with pool.acquire() as connection:
        for hospital in TEST_HOSPITALS:
            await connection.execute(
                """
                INSERT INTO organization (id, name, capabilities, latitude, longitude, resource)
                VALUES ($1, $2, $3, $4, $5, '{}')
                """,
                hospital.id,
                hospital.name,
                sorted(hospital.capabilities),
                hospital.latitude,
                hospital.longitude,
            )
    yield pool
    await pool.close()
    admin = await asyncpg.connect(postgres)
    try:
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        await admin.close()


@pytest.fixture
async def connection(referral_pool: asyncpg.Pool) -> AsyncIterator[Connection]:
    """One transaction for the test, rolled back at its end: nothing a test writes stays."""
    async with referral_pool.acquire() as connection:
        transaction = connection.transaction()
        await transaction.start()
        try:
            yield connection
        finally:
            await transaction.rollback()
