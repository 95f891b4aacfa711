"""Connections go back to the pool without a reset round trip, except those that took session
state: a session advisory lock or a LISTEN never outlives the block that took it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from shared.db.listening import listening
from shared.db.pool import create_pool, takes_session_state
from tests.support import TestStack

pytestmark = pytest.mark.integration

LOCK_KEY = 0x5EED_F00D


@pytest.fixture
async def one_connection_pool(stack: TestStack) -> AsyncIterator[asyncpg.Pool]:
    """One connection: what is released is what the next acquire gets."""
    pool = await create_pool(stack.database_url, schema="public", max_size=1)
    yield pool
    await pool.close()


async def test_a_connection_released_after_a_transaction_is_not_reset(
    one_connection_pool: asyncpg.Pool,
) -> None:
    sent: list[str] = []
    async with one_connection_pool.acquire() as connection:
        connection.add_query_logger(lambda record: sent.append(record.query))
        async with connection.transaction():
            await connection.execute("SELECT 1")
    async with one_connection_pool.acquire() as connection:
        await connection.execute("SELECT 2")
    assert "RESET ALL" not in " ".join(sent)
    assert [q for q in sent if q not in ("BEGIN;", "COMMIT;")] == ["SELECT 1", "SELECT 2"]


async def test_a_session_advisory_lock_is_released_with_its_connection(
    one_connection_pool: asyncpg.Pool, database: asyncpg.Pool
) -> None:
    async with one_connection_pool.acquire() as connection:
        takes_session_state(connection)
        await connection.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
        holder = connection.get_server_pid()
        # Not unlocked here, as a relay whose unlock failed would leave it.
    held = await database.fetchval(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND pid = $2",
        LOCK_KEY,
        holder,
    )
    assert held == 0
    # The same connection, still open, can be used again.
    async with one_connection_pool.acquire() as connection:
        assert connection.get_server_pid() == holder


async def test_a_listen_ends_with_its_block(
    one_connection_pool: asyncpg.Pool, database: asyncpg.Pool
) -> None:
    async with listening(one_connection_pool, {"pool_reset_test": lambda *_: None}):
        pass
    async with one_connection_pool.acquire() as connection:
        channels = await connection.fetchval("SELECT count(*) FROM pg_listening_channels()")
    assert channels == 0


async def test_a_listener_checked_after_every_wake_up_asks_the_server_at_most_once_an_interval(
    one_connection_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The referral page feed checks its listener after every timeline commit: the issue's
    benchmark counted 4.7 `SELECT 1` per referral."""
    checks = 0
    execute = asyncpg.connection.Connection.execute

    async def counting(connection: asyncpg.Connection, query: str, *args: Any) -> str:
        nonlocal checks
        checks += query == "SELECT 1"
        return await execute(connection, query, *args)

    monkeypatch.setattr(asyncpg.connection.Connection, "execute", counting)
    async with listening(one_connection_pool, {"alive_test": lambda *_: None}) as alive:
        for _ in range(20):
            assert await alive()
    assert checks <= 1
