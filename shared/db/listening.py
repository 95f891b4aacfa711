"""LISTEN on PostgreSQL channels for as long as a block runs (the live feeds' wake-ups)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import asyncpg
from opentelemetry.instrumentation.utils import suppress_instrumentation

from shared.db.pool import takes_session_state

Listener = Callable[..., Any]

# How often ``alive`` asks the server at most: a listener that died unseen only delays what it
# wakes until the caller's own recheck.
ALIVE_CHECK_EVERY_S = 5.0


@contextlib.asynccontextmanager
async def listening(
    pool: asyncpg.Pool,
    listeners: Mapping[str, Listener],
    *,
    on_lost: Callable[[], None] | None = None,
) -> AsyncIterator[Callable[[], Awaitable[bool]]]:
    """Holds one pooled connection listening on each channel; yields ``alive``, an awaitable
    check the block calls now and then (a dead connection raises, and the block ends); it asks
    the server at most every ``ALIVE_CHECK_EVERY_S``. ``on_lost`` is called as soon as the
    connection is seen closed (the server ended it, or it broke): a NOTIFY sent from then on
    reaches nobody until the block listens again."""
    async with pool.acquire() as connection:
        takes_session_state(connection)

        def lost(_connection: object) -> None:
            if on_lost is not None:
                on_lost()

        with suppress_instrumentation():
            for channel, listener in listeners.items():
                await connection.add_listener(channel, listener)
        connection.add_termination_listener(lost)
        if connection.is_closed():
            lost(connection)

        checked_at = time.monotonic()

        async def alive() -> bool:
            nonlocal checked_at
            if connection.is_closed():
                return False
            if time.monotonic() - checked_at < ALIVE_CHECK_EVERY_S:
                return True
            checked_at = time.monotonic()
            with suppress_instrumentation():
                await connection.execute("SELECT 1")  # notices a dead connection
            return not connection.is_closed()

        try:
            yield alive
        finally:
            # Termination listeners outlive a pooled connection's release; notification ones not.
            connection.remove_termination_listener(lost)
            with contextlib.suppress(Exception):
                for channel, listener in listeners.items():
                    await connection.remove_listener(channel, listener)
