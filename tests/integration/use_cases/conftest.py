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

from collections.abc import AsyncIterator

import asyncpg
import pytest

from shared.db.pool import Connection
from tests.integration.use_cases.support import add_test_directory
from tests.use_case_database import migrated_schema, rolled_back, stack_postgres_url


@pytest.fixture(scope="session")
def postgres() -> str:
    return stack_postgres_url()


@pytest.fixture(scope="session")
async def referral_pool(postgres: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a private schema with the referral service's tables and the test directory."""
    async with migrated_schema(postgres, service="referral") as pool:
        await add_test_directory(pool)
        yield pool


@pytest.fixture
async def connection(referral_pool: asyncpg.Pool) -> AsyncIterator[Connection]:
    async with rolled_back(referral_pool) as connection:
        yield connection
