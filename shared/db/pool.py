"""asyncpg pool per service; each service owns one schema and sees it first on its search_path."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import orjson
from asyncpg.pool import PoolConnectionProxy

# What handlers receive: a plain connection or one borrowed from the pool.
Connection = asyncpg.Connection | PoolConnectionProxy

# Server process ids of pooled connections that took session state (a LISTEN, a session-level
# advisory lock): only these get asyncpg's full reset when they go back to the pool.
_WITH_SESSION_STATE: set[int] = set()


def takes_session_state(connection: Connection) -> None:
    """Marks a pooled connection that is about to LISTEN or take a session-level advisory lock:
    it is reset in full (UNLISTEN *, pg_advisory_unlock_all, ...) when it is released."""
    _WITH_SESSION_STATE.add(connection.get_server_pid())


# What the outbox's trigger tells the writing connection when its process's relay leads, in
# place of a NOTIFY (shared/db/ddl.py: OUTBOX_WAKES_ITS_WRITER).
OUTBOX_WRITTEN_NOTICE = "fasttrack: outbox written"


class _Connection(asyncpg.Connection):
    """A pooled connection that notes the outbox trigger's notice (no log listener: asyncpg
    drops those, with a warning, at every release)."""

    # Called at release, after the commit, when the connection wrote outbox rows meanwhile.
    after_outbox_commit: list[Callable[[], None]] | None = None
    outbox_written = False

    def _process_log_message(self, fields: dict[str, str], last_query: str) -> None:
        if fields.get("M") == OUTBOX_WRITTEN_NOTICE:
            self.outbox_written = True
        super()._process_log_message(fields, last_query)  # type: ignore[misc]


# Each pool's wake-ups after an outbox commit (``wake_after_outbox_commit``), by id(pool).
_AFTER_OUTBOX_COMMIT: dict[int, list[Callable[[], None]]] = {}


def wake_after_outbox_commit(pool: asyncpg.Pool, wake: Callable[[], None]) -> None:
    """Calls ``wake`` whenever a connection of ``pool`` that wrote outbox rows without a NOTIFY
    (its relay leads) is released. A pool not made by ``create_pool`` always NOTIFYs."""
    _AFTER_OUTBOX_COMMIT.get(id(pool), []).append(wake)


async def _reset_on_release(connection: asyncpg.Connection) -> None:
    """asyncpg's default reset sends four statements on every release (pg_advisory_unlock_all;
    CLOSE ALL; UNLISTEN *; RESET ALL): a round trip per use case and per message. Nothing of
    it is needed for the connections the services use for transactions: asyncpg itself rolls
    back a transaction left open and forgets the listeners before calling this; the services
    set no session settings and hold no cursors outside transactions. The few connections that
    LISTEN or take a session lock say so (``takes_session_state``) and are reset in full."""
    # Not isinstance: asyncpg's connection metaclass answers True for any connection.
    if type(connection) is _Connection and connection.outbox_written:
        connection.outbox_written = False  # committed (or rolled back: a wake-up for nothing)
        for wake in connection.after_outbox_commit or ():
            wake()
    pid = connection.get_server_pid()
    if pid in _WITH_SESSION_STATE:
        _WITH_SESSION_STATE.discard(pid)
        reset_query = connection.get_reset_query()
        if reset_query:
            await connection.execute(reset_query)


@contextlib.asynccontextmanager
async def one_moment(connection: Connection, *, writes: bool = False) -> AsyncIterator[None]:
    """The reads inside see the database as of one moment (a REPEATABLE READ transaction:
    every statement in the snapshot of its first). Outside a transaction each statement sees
    what was committed when it began, so an answer read in several statements could show half
    of a change committed between them (a check-in under the flag it had not yet raised).
    Read-only unless ``writes`` (an audit row of the read); inside a transaction already open,
    that transaction's own. Never for a use case that writes the outbox: the trigger would read
    which relay leads as of the snapshot, and a row written after a lead changed could wait for
    the relay's one-minute re-check (shared/messaging/outbox_leader.py)."""
    if connection.is_in_transaction():
        yield
        return
    async with connection.transaction(isolation="repeatable_read", readonly=not writes):
        yield


def _jsonb_bytes(value: Any) -> bytes:
    """jsonb's binary form: a version byte, then the JSON text (the server parses it: the
    bytes sent are not what it stores or gives back), written by orjson."""
    return b"\x01" + orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


def _jsonb_value(data: bytes) -> Any:
    try:
        return orjson.loads(data[1:])
    except orjson.JSONDecodeError:  # a number orjson cannot hold (an integer past 64 bits)
        return json.loads(data[1:])


async def _init_connection(connection: asyncpg.Connection) -> None:
    # orjson, not the standard library's json, for every jsonb parameter and column.
    await connection.set_type_codec(
        "jsonb",
        encoder=_jsonb_bytes,
        decoder=_jsonb_value,
        schema="pg_catalog",
        format="binary",
    )


async def create_pool(database_url: str, *, schema: str, max_size: int = 10) -> asyncpg.Pool:
    """Connects nothing yet (``min_size=0``): a service starts while the database is away and
    opens connections on first use. Its connections name the pool's own instance (the
    ``fasttrack.instance`` setting, sent when connecting): the outbox's trigger NOTIFYs unless
    the relay that leads is this pool's."""
    after_outbox_commit: list[Callable[[], None]] = []

    async def init(connection: asyncpg.Connection) -> None:
        await _init_connection(connection)
        if type(connection) is _Connection:
            connection.after_outbox_commit = after_outbox_commit

    pool = await asyncpg.create_pool(
        database_url,
        min_size=0,
        max_size=max_size,
        init=init,
        reset=_reset_on_release,
        connection_class=_Connection,
        server_settings={
            "search_path": schema,
            "application_name": f"fasttrack-{schema}",
            "fasttrack.instance": uuid.uuid4().hex,
        },
    )
    if pool is None:  # typed Optional by asyncpg-stubs; an awaited create_pool returns a pool
        raise RuntimeError(f"asyncpg returned no pool for schema {schema}")
    _AFTER_OUTBOX_COMMIT[id(pool)] = after_outbox_commit
    return pool
