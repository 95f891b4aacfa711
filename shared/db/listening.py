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

# How often ``alive`` asks the server: the feeds call it after every wake-up (the referral page
# feed once per timeline commit, several times a referral), and a listener that died unseen only
# delays a page until the feed's own recheck.
ALIVE_CHECK_EVERY_S = 5.0


@contextlib.asynccontextmanager
async def listening(
    pool: asyncpg.Pool, listeners: Mapping[str, Listener]
) -> AsyncIterator[Callable[[], Awaitable[bool]]]:
    """Holds one pooled connection listening on each channel; yields ``alive``, an awaitable
    check the block calls now and then (a dead connection raises, and the block ends); it asks
    the server at most every ``ALIVE_CHECK_EVERY_S``."""
    async with pool.acquire() as connection:
        takes_session_state(connection)
        with suppress_instrumentation():
            for channel, listener in listeners.items():
                await connection.add_listener(channel, listener)

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
            with contextlib.suppress(Exception):
                for channel, listener in listeners.items():
                    await connection.remove_listener(channel, listener)
