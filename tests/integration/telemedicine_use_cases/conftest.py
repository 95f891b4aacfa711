"""Use-case tests of the telemedicine service: its service layer on the real PostgreSQL, each
test in a transaction rolled back at its end; no Kafka, no service process (what would go to
Kafka is asserted as outbox rows). The same shape as tests/integration/use_cases/."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from shared.db.pool import Connection
from tests.use_case_database import migrated_schema, rolled_back, stack_postgres_url


@pytest.fixture(scope="session")
def telemedicine_postgres() -> str:
    return stack_postgres_url()


@pytest.fixture(scope="session")
async def telemedicine_pool(telemedicine_postgres: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a private schema holding the telemedicine service's tables."""
    async with migrated_schema(telemedicine_postgres, service="telemedicine") as pool:
        yield pool


@pytest.fixture
async def connection(telemedicine_pool: asyncpg.Pool) -> AsyncIterator[Connection]:
    async with rolled_back(telemedicine_pool) as connection:
        yield connection
