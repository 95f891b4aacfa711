"""Index entries a statement writes, counted from PostgreSQL's WAL (pg_walinspect): every entry
is a B-tree descent, a page change and a WAL record. Only the records of one table's own indexes
are counted, so other tests' writes to the shared cluster are not."""

from __future__ import annotations

import asyncio
import re

import asyncpg

from shared.db.pool import Connection

# A pool or one of its connections: each read is one statement.
Database = asyncpg.Pool | Connection

_RELATION = re.compile(r"rel (\d+/\d+/\d+)")


async def index_files(connection: Database, table: str) -> set[str]:
    """``table``'s indexes as the WAL names them (tablespace/database/file); installs
    pg_walinspect (in ``public``) for ``index_entries``."""
    await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect SCHEMA public")
    rows = await connection.fetch(
        """
        SELECT concat_ws('/', (SELECT oid FROM pg_tablespace WHERE spcname = 'pg_default'),
                         (SELECT oid FROM pg_database WHERE datname = current_database()),
                         pg_relation_filenode(i.indexrelid)) AS file
        FROM pg_index AS i WHERE i.indrelid = $1::text::regclass
        """,
        table,
    )
    return {row["file"] for row in rows}


async def wal_position(connection: Database) -> str:
    position: str = await connection.fetchval("SELECT pg_current_wal_insert_lsn()::text")
    return position


async def index_entries(
    connection: Database, files: set[str], start: str, end: str, *, flusher: asyncpg.Pool
) -> int:
    """Leaf entries written to the indexes ``files`` between two WAL positions (an empty index's
    first page, made by its first entry, is not counted). Read once they are on disk: the test
    cluster commits without waiting for it, and its WAL writer flushes up to the last commit,
    so ``flusher`` commits a transaction of its own (a test's own may still be open)."""
    for _ in range(100):
        if await connection.fetchval("SELECT pg_current_wal_flush_lsn() >= $1::text::pg_lsn", end):
            break
        await flusher.execute("SELECT txid_current()")
        await asyncio.sleep(0.1)
    records = await connection.fetch(
        """
        SELECT block_ref FROM public.pg_get_wal_records_info($1::text::pg_lsn, $2::text::pg_lsn)
        WHERE resource_manager = 'Btree' AND record_type IN ('INSERT_LEAF', 'INSERT_POST')
        """,
        start,
        end,
    )
    return sum(
        1
        for record in records
        if any(name in files for name in _RELATION.findall(record["block_ref"] or ""))
    )
