"""Live feeds of the hospitals' web pages: one LISTEN connection per notifier process wakes the
open pages of the hospital an event was published for; each page then reads the feed from where
it is. NOTIFY only says "look now": whenever the listener (re)connects every open page is woken,
so an event published while nobody listened is shown then; a connection the server ended is
seen at once, one that broke unseen at the check every ``recheck_s`` (a minute)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from opentelemetry.instrumentation.utils import suppress_instrumentation

from services.notifier.adapters import live_events
from services.notifier.adapters.live_events import LIVE_EVENT_CHANNEL
from shared.db.listening import listening
from shared.workers import ListeningTask, PeriodicTask

log = logging.getLogger(__name__)


class LiveFeed(ListeningTask):
    name = "live-feed"

    def __init__(self, *, pool: asyncpg.Pool, recheck_s: float = 60.0) -> None:
        super().__init__()
        self._pool = pool
        self.recheck_s = recheck_s
        self._pages: dict[str, set[asyncio.Event]] = defaultdict(set)

    @contextlib.contextmanager
    def subscribe(self, organization: str) -> Iterator[asyncio.Event]:
        """An event set whenever the hospital's feed may have something new."""
        changed = asyncio.Event()
        self._pages[organization].add(changed)
        try:
            yield changed
        finally:
            self._pages[organization].discard(changed)
            if not self._pages[organization]:
                del self._pages[organization]

    async def listen(self) -> None:
        lost = asyncio.Event()
        async with listening(
            self._pool, {LIVE_EVENT_CHANNEL: self._on_notify}, on_lost=lost.set
        ) as alive:
            self._wake_all()  # whatever happened while no one was listening
            while True:
                # A connection the server ended is seen at once (listened to again a second
                # later, waking every page); one that broke unseen, at the next check.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), self.recheck_s)
                if lost.is_set() or not await alive():
                    return

    def _on_notify(self, _connection: Any, _pid: int, _channel: str, organization: object) -> None:
        for changed in self._pages.get(str(organization), ()):
            changed.set()

    def _wake_all(self) -> None:
        for pages in self._pages.values():
            for changed in pages:
                changed.set()


class LiveFeedRetention(PeriodicTask):
    """Keeps the feeds short: a page catches up on hours, not months."""

    name = "live-feed-retention"

    def __init__(self, *, pool: asyncpg.Pool, keep: timedelta, poll_interval_s: float) -> None:
        super().__init__(poll_interval_s=poll_interval_s)
        self._pool = pool
        self._keep = keep

    async def tick(self) -> None:
        async with self._pool.acquire() as connection:
            with suppress_instrumentation():
                forgotten = await live_events.forget_older_than(
                    connection, before=datetime.now(UTC) - self._keep
                )
        if forgotten:
            log.info("forgot %d live events older than %s", forgotten, self._keep)
