"""Background work of a service (outbox relay, watchers, dispatchers): one task each, started
and stopped by the composition root, never crashing on a failed round."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import asyncpg

from shared.db.listening import listening

log = logging.getLogger(__name__)


class BackgroundTask(ABC):
    name = "background-task"

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @abstractmethod
    async def run(self) -> None: ...


class PeriodicTask(BackgroundTask):
    """Runs ``tick`` every ``poll_interval_s``; a failed round is logged and tried again."""

    def __init__(self, *, poll_interval_s: float) -> None:
        super().__init__()
        self.poll_interval_s = poll_interval_s

    async def run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("%s failed; trying again in %.1f s", self.name, self.poll_interval_s)
            await asyncio.sleep(self.poll_interval_s)

    @abstractmethod
    async def tick(self) -> None: ...


class ListeningTask(BackgroundTask):
    """Runs ``listen`` (a LISTEN session on a database connection) for as long as the service
    runs: when the connection is lost it is logged and, a second later, listened to again."""

    reconnect_after_s = 1.0

    async def run(self) -> None:
        while True:
            try:
                await self.listen()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s lost its listening connection; reconnecting", self.name)
            await asyncio.sleep(self.reconnect_after_s)

    @abstractmethod
    async def listen(self) -> None: ...


class ScheduledTask(BackgroundTask):
    """Runs ``tick`` when work falls due and otherwise sleeps: until ``next_due`` (asked after
    each round, from the database), sooner when ``notice`` says work was written that falls due
    before then (a NOTIFY of the writing transaction, or a signal of this process), and at the
    latest ``recheck_s`` after a round, so a notice missed (the listener reconnecting) delays
    work by at most that. Polling every few seconds cost a statement per watcher each time with
    nothing to do.

    A round starts at least ``min_gap_s`` after the previous one (a notice that only says "look
    again" comes with every write under load); a failed round, or work still due after a round
    (held by another instance, or failing), is tried again after ``retry_s``."""

    def __init__(self, *, retry_s: float, recheck_s: float = 60.0, min_gap_s: float = 0.0) -> None:
        super().__init__()
        self.retry_s = retry_s
        self.recheck_s = recheck_s
        self.min_gap_s = min_gap_s
        self.rounds = 0
        # Wall-clock (epoch) times: due times come from the database's timestamps.
        self._planned: float | None = None  # the next round; None while a round runs
        self._noticed: float | None = None  # the earliest notice heard during a round
        self._last_round = -math.inf
        self._replanned = asyncio.Event()

    def notice(self, due: float | None = None) -> None:
        """Work was written that falls due at ``due`` (epoch seconds; None: now): the next
        round comes no later than that."""
        at = max(time.time() if due is None else due, self._last_round + self.min_gap_s)
        if self._planned is None:
            self._noticed = at if self._noticed is None else min(self._noticed, at)
        elif at < self._planned:
            self._planned = at
            self._replanned.set()

    @abstractmethod
    async def tick(self) -> None: ...

    @abstractmethod
    async def next_due(self) -> float | None:
        """When the earliest work not done yet falls due (epoch seconds); None: none known."""

    async def run(self) -> None:
        while True:
            self._planned, self._noticed = None, None
            started = self._last_round = time.time()
            self.rounds += 1
            try:
                await self.tick()
                due = await self.next_due()
            except Exception:
                log.exception("%s failed; trying again in %.1f s", self.name, self.retry_s)
                due = started + self.retry_s
            else:
                if due is None:
                    due = math.inf
                elif due <= started:
                    due = started + self.retry_s
            planned = min(due, started + self.recheck_s)
            if self._noticed is not None:
                planned = min(planned, self._noticed)
            self._planned = planned
            await self._sleep_until_planned()

    async def _sleep_until_planned(self) -> None:
        while self._planned is not None:
            remaining = self._planned - time.time()
            if remaining <= 0:
                return
            self._replanned.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._replanned.wait(), remaining)


def due_in_payload(payload: str) -> float | None:
    """A notice's payload: when the work written falls due, in epoch seconds (empty: now)."""
    try:
        return float(payload) if payload else None
    except ValueError:
        return None


# Told when work written falls due (epoch seconds; None: now).
NoticeHandler = Callable[[float | None], None]

# Told a notification's payload as sent (None: the listener (re)connected, so anything may have
# been written meanwhile): for a notice whose payload is not a due time (the live feed's hospital).
PayloadHandler = Callable[[str | None], None]


class DatabaseNotices(ListeningTask):
    """One LISTEN connection per process that hands each notification on a channel to its
    handlers: ``handlers`` with the payload's due time (the scheduled tasks' ``notice``),
    ``payload_handlers`` with the payload itself. Whenever it (re)connects, every handler is
    told "now" (None): what was written while nobody listened.

    One connection, not one per worker that listens: PostgreSQL signals every listening
    backend of the database on each notifying commit, whichever channels it listens to, and the
    services share one database."""

    name = "database-notices"

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        handlers: Mapping[str, Sequence[NoticeHandler]],
        payload_handlers: Mapping[str, Sequence[PayloadHandler]] | None = None,
        alive_check_s: float = 60.0,
    ) -> None:
        super().__init__()
        self._pool = pool
        self._handlers = handlers
        self._payload_handlers = payload_handlers or {}
        self._alive_check_s = alive_check_s

    async def listen(self) -> None:
        channels = list(dict.fromkeys([*self._handlers, *self._payload_handlers]))
        listeners = {channel: self._on_notify for channel in channels}
        lost = asyncio.Event()
        async with listening(self._pool, listeners, on_lost=lost.set) as alive:
            for channel in channels:
                self._tell(channel, None)
            while True:
                # A connection the server ended is seen at once (and listened to again a
                # second later); a broken one that nobody closed, at the next check.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), self._alive_check_s)
                if lost.is_set() or not await alive():
                    return

    def _on_notify(self, _connection: Any, _pid: int, channel: str, payload: object) -> None:
        self._tell(channel, str(payload))

    def _tell(self, channel: str, payload: str | None) -> None:
        due = None if payload is None else due_in_payload(payload)
        for handle in self._handlers.get(channel, ()):
            handle(due)
        for hear in self._payload_handlers.get(channel, ()):
            hear(payload)
