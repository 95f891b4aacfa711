"""The database under the use-case tests (tests/integration/*use_cases/): the test stack's real
PostgreSQL, a private schema migrated by the service's own Alembic history, and one transaction
per test rolled back at its end. No Kafka and no service process: what would go to Kafka is
asserted as outbox rows."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from alembic import command
from asyncpg.connection import LoggedQuery

from shared.db.migrations import alembic_config
from shared.db.pool import Connection, _init_connection, _reset_on_release, create_pool
from tests.support import SESSION_STATE_DIR, TestStack


def stack_postgres_url() -> str:
    """The test stack's PostgreSQL (started if it is not running); Kafka is not needed."""
    stack = TestStack(state_dir=SESSION_STATE_DIR)
    stack.run("bash", "deploy/local/postgres.sh", "start")
    return stack.database_url


@asynccontextmanager
async def migrated_schema(database_url: str, *, service: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a private schema holding ``service``'s tables; the schema is dropped after."""
    schema = f"{service}_uc_{secrets.token_hex(4)}"
    config = alembic_config(service, database_url)
    config.attributes["schema"] = schema
    # Alembic runs its own event loop (shared/db/migrations.py): off this one.
    await asyncio.to_thread(command.upgrade, config, "head")
    pool = await create_pool(database_url, schema=schema, max_size=2)
    try:
        yield pool
    finally:
        await pool.close()
        admin = await asyncpg.connect(database_url)
        try:
            await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        finally:
            await admin.close()


@asynccontextmanager
async def rolled_back(pool: asyncpg.Pool) -> AsyncIterator[Connection]:
    """One transaction for the test, rolled back at its end: nothing a test writes stays."""
    async with pool.acquire() as connection:
        transaction = connection.transaction()
        await transaction.start()
        try:
            yield connection
        finally:
            await transaction.rollback()


@asynccontextmanager
async def sent_statements(connection: Connection) -> AsyncIterator[list[str]]:
    """The statements ``connection`` sends while the block runs (an executemany counts once:
    its rows travel in one round trip)."""
    sent: list[str] = []

    def note(query: LoggedQuery) -> None:
        sent.append(" ".join(query.query.split())[:100])

    connection.add_query_logger(note)
    try:
        yield sent
        await asyncio.sleep(0)  # asyncpg calls the logger soon after each statement, not in it
    finally:
        connection.remove_query_logger(note)


class CountedPool:
    """A pool on ``schema`` whose connections note every statement they send."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.pool: asyncpg.Pool

    async def open(self, database_url: str, schema: str) -> asyncpg.Pool:
        async def init(connection: asyncpg.Connection) -> None:
            await _init_connection(connection)
            connection.add_query_logger(self._note)

        # The services' pool (shared/db/pool.py), with the logger added.
        pool = await asyncpg.create_pool(
            database_url,
            min_size=0,
            max_size=4,
            init=init,
            reset=_reset_on_release,
            # Named after its schema, so a test finds its own connections in pg_stat_activity
            # (the cluster is shared with other tests and the session's services).
            server_settings={"search_path": schema, "application_name": f"counted-{schema}"},
        )
        assert pool is not None
        self.pool = pool
        return pool

    def _note(self, query: LoggedQuery) -> None:
        self.sent.append(" ".join(query.query.split())[:80])
