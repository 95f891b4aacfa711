"""Sent deliveries written down together: what the dispatcher's sends came to, when they finish
at once (a batch of requests' deliveries handed over at one commit, a claim of several).

A delivery sent on a webhook, LINE or SMS is marked sent and its outcome event queued in one
statement (``service/dispatch.record_all_sent``). The first waits for nothing: its statement
goes at once; those that finish while a statement is on its way go together in the next one,
so a burst of sends costs one statement and one commit (a WAL flush) where it cost one each.
"""

from __future__ import annotations

import asyncio

import asyncpg

from services.notifier.service.dispatch import SentOutcome, record_all_sent


class SentSettlements:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._waiting: list[tuple[SentOutcome, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, sent: SentOutcome) -> None:
        """Returns once ``sent`` is written down (with the others waiting then); raises what
        its statement raised (nothing of it written: the caller tries again)."""
        written = asyncio.get_running_loop().create_future()
        self._waiting.append((sent, written))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write(), name="sent-settlements")
        await written

    async def stop(self) -> None:
        """Waits for the statements on their way (sends cut short were still sent)."""
        if self._writer is not None:
            await asyncio.shield(self._writer)

    async def _write(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    async with self._pool.acquire() as connection:
                        await record_all_sent(connection, [sent for sent, _ in batch])
                except Exception as error:
                    for _, written in batch:
                        if not written.done():
                            written.set_exception(error)
                else:
                    for _, written in batch:
                        if not written.done():
                            written.set_result(None)
        finally:
            self._writer = None
