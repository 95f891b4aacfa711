"""The live feed of the clinicians' open pages: numbers committed timeline entries and wakes the
pages' streams (services/referral/entrypoints/app_events.py), which then read the feed, scoped
to their hospital, from where they are.

Why LISTEN/NOTIFY rather than each page polling: a board waits minutes between events, and a
hospital may keep tens of pages open; the process's one listening connection (``DatabaseNotices``,
shared/workers.py, no connection of the feed's own: every listening connection of the database
is woken by every notifying commit of the three services) costs nothing per page, while a poll
every second per page costs a query per page per second. NOTIFY only says "look now": the
listener tells the feed "now" whenever it (re)connects (a connection the server ended is seen at
once and listened to again a second later), and the feed stamps and wakes the pages then; idle,
it looks for an entry nobody numbered every ``recheck_s`` (a minute: one cheap statement), so an
entry whose NOTIFY was lost is shown anyway, only later. Entries committed within ``gather_s`` of
one another are numbered together: open pages hear of a step at most that much later, and the
stamping costs a transaction per burst, not per entry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator

import asyncpg
from opentelemetry.instrumentation.utils import suppress_instrumentation

from services.referral.adapters import page_events
from shared.workers import BackgroundTask, NoticeHandler

log = logging.getLogger(__name__)


class PageFeed(BackgroundTask):
    name = "page-feed"
    retry_s = 1.0

    def __init__(
        self, *, pool: asyncpg.Pool, schema: str, recheck_s: float = 60.0, gather_s: float = 0.2
    ) -> None:
        super().__init__()
        self._pool = pool
        self._schema = schema
        self.recheck_s = recheck_s
        self.gather_s = gather_s
        self._pages: set[asyncio.Event] = set()
        self._stamp_wanted = asyncio.Event()

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[asyncio.Event]:
        """An event set whenever the feed may have something new (for any hospital: each page
        reads its own hospital's part, and only it knows what it has seen)."""
        changed = asyncio.Event()
        self._pages.add(changed)
        try:
            yield changed
        finally:
            self._pages.discard(changed)

    def notices(self) -> dict[str, list[NoticeHandler]]:
        """What the process's listener hands to the feed (``ServiceRuntime.listen``): a committed
        timeline entry. Every process stamps on it and then wakes its own pages: after its stamp
        the entry is numbered, by it or by another process's stamp (whose lock it waited for),
        so a stamp need not tell the other processes' pages (no NOTIFY of its own)."""
        return {page_events.TIMELINE_CHANNEL + self._schema: [self.notice_entry]}

    def notice_entry(self, _due: float | None = None) -> None:
        self._stamp_wanted.set()

    async def stamp(self) -> int:
        """Numbers what was committed since the last stamp; returns how many entries."""
        with suppress_instrumentation():
            # One round trip, its own transaction (no BEGIN and COMMIT around it).
            async with self._pool.acquire() as connection:
                return await page_events.stamp_committed(connection, schema=self._schema)

    async def run(self) -> None:
        woken = True  # the first round numbers whatever came while nothing ran
        stamped_at = time.monotonic()
        while True:
            self._stamp_wanted.clear()  # before stamping: a commit meanwhile comes again
            try:
                if woken or await self._anything_to_stamp():
                    await self.stamp()
                    stamped_at = time.monotonic()
            except Exception:
                log.exception("%s failed; trying again in %.1f s", self.name, self.retry_s)
                await asyncio.sleep(self.retry_s)
                woken = True
                continue
            self._wake_pages()
            try:
                await asyncio.wait_for(self._stamp_wanted.wait(), self.recheck_s)
            except TimeoutError:
                woken = False  # idle: a look for a missed entry (one statement, no transaction)
            else:
                # A lone entry is numbered at once (an open page shows a tap's result without
                # delay); within a burst (a referral's intake, its consult's steps, its pages'
                # outcomes) at most once per gather_s, so one stamp numbers what commits
                # meanwhile: one stamp per entry was a transaction per entry.
                await asyncio.sleep(max(0.0, stamped_at + self.gather_s - time.monotonic()))
                woken = True

    async def _anything_to_stamp(self) -> bool:
        with suppress_instrumentation():
            async with self._pool.acquire() as connection:
                return await page_events.anything_to_stamp(connection)

    def _wake_pages(self) -> None:
        for changed in self._pages:
            changed.set()
