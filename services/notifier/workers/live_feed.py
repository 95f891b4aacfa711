"""Live feeds of the hospitals' web pages: the notifier process's one LISTEN connection
(``DatabaseNotices``, shared/workers.py) hands each NOTIFY of the live-event channel to the feed,
which wakes the open pages of the hospital an event was published for; each page then reads the
feed from where it is. NOTIFY only says "look now": whenever the listener (re)connects every open
page is woken, so an event published while nobody listened is shown then; a connection the
server ended is seen at once, one that broke unseen at the listener's check (a minute).

No connection of its own: every listening connection of the database is woken by every
notifying commit of the three services, whichever channels it listens to."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import asyncpg
from opentelemetry.instrumentation.utils import suppress_instrumentation

from services.notifier.adapters import live_events
from services.notifier.adapters.live_events import LIVE_EVENT_CHANNEL
from shared.workers import PayloadHandler, PeriodicTask

log = logging.getLogger(__name__)


class LiveFeed:
    def __init__(self) -> None:
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

    def notices(self) -> dict[str, list[PayloadHandler]]:
        """What the process's listener hands to the feed (``runtime.listen_for_payloads``)."""
        return {LIVE_EVENT_CHANNEL: [self.notice]}

    def notice(self, organization: str | None) -> None:
        """An event was published for ``organization``'s feed; None: the listener (re)connected,
        and any hospital's may have something new."""
        if organization is None:
            woken = [changed for pages in self._pages.values() for changed in pages]
        else:
            woken = list(self._pages.get(organization, ()))
        for changed in woken:
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
