"""``one_moment`` (shared/db/pool.py): the reads inside it see the database as of one moment,
whatever another connection commits meanwhile; the reads outside each see their own. The
services' answers read in several statements use it (a referral with its timeline and clock, a
consult with its steps, a home-isolation episode with its check-ins)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import asyncpg
import pytest

from shared.db.pool import one_moment

pytestmark = pytest.mark.integration


@pytest.fixture
async def table(database: asyncpg.Pool) -> AsyncIterator[str]:
    name = f"one_moment_{secrets.token_hex(4)}"
    await database.execute(f"CREATE TABLE {name} (step int)")
    yield name
    await database.execute(f"DROP TABLE {name}")


async def _counts(database: asyncpg.Pool, table: str, *, in_one_moment: bool) -> tuple[int, int]:
    """Counts the rows twice on one connection while another commits a row in between."""
    count = f"SELECT count(*) FROM {table}"  # noqa: S608 - the fixture's own table name
    async with database.acquire() as reader:
        if in_one_moment:
            async with one_moment(reader):
                before = await reader.fetchval(count)
                await database.execute(f"INSERT INTO {table} VALUES (1)")  # noqa: S608
                after = await reader.fetchval(count)
        else:
            before = await reader.fetchval(count)
            await database.execute(f"INSERT INTO {table} VALUES (1)")  # noqa: S608
            after = await reader.fetchval(count)
    return before, after


async def test_reads_in_one_moment_agree_while_another_connection_commits(
    database: asyncpg.Pool, table: str
) -> None:
    assert await _counts(database, table, in_one_moment=True) == (0, 0)
    # The same reads outside it: the second saw the commit the first did not.
    assert await _counts(database, table, in_one_moment=False) == (1, 2)


async def test_it_is_read_only_unless_it_writes_and_inside_a_transaction_defers_to_it(
    database: asyncpg.Pool, table: str
) -> None:
    insert = f"INSERT INTO {table} VALUES (1)"  # noqa: S608 - the fixture's own table name
    async with database.acquire() as connection:
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            async with one_moment(connection):
                await connection.execute(insert)
        async with one_moment(connection, writes=True):  # a read's audit row
            await connection.execute(insert)
        # Inside a transaction already open, that transaction's own: it may write.
        async with connection.transaction(), one_moment(connection):
            await connection.execute(insert)
    assert await database.fetchval(f"SELECT count(*) FROM {table}") == 2  # noqa: S608
