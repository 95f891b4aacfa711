"""asyncpg pool per service; each service owns one schema and sees it first on its search_path."""

from __future__ import annotations

import json

import asyncpg
from asyncpg.pool import PoolConnectionProxy


async def _init_connection(connection: asyncpg.Connection) -> None:
    await connection.set_type_codec(
        "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
    )


async def create_pool(database_url: str, *, schema: str, max_size: int = 10) -> asyncpg.Pool:
    """Connects nothing yet (``min_size=0``): a service starts while the database is away and
    opens connections on first use."""
    pool = await asyncpg.create_pool(
        database_url,
        min_size=0,
        max_size=max_size,
        init=_init_connection,
        server_settings={"search_path": schema, "application_name": f"fasttrack-{schema}"},
    )
    if pool is None:  # typed Optional by asyncpg-stubs; an awaited create_pool returns a pool
        raise RuntimeError(f"asyncpg returned no pool for schema {schema}")
    return pool


# What handlers receive: a plain connection or one borrowed from the pool.
Connection = asyncpg.Connection | PoolConnectionProxy
