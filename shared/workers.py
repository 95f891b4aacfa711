"""Background work of a service (outbox relay, watchers, dispatchers): one task each, started
and stopped by the composition root, never crashing on a failed round."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod

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
