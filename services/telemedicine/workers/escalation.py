"""The escalation ladder's clock: pages the next rung (the backup, the stroke lead) of a
consult nobody acknowledged in time, then fails it to connect. One transaction per consult,
under its row lock, so an acknowledgement arriving at the same moment wins or waits.

It sleeps until the earliest rung's deadline; a consult written with an earlier one wakes it
(the consult table's trigger NOTIFYs ``DEADLINE_CHANNEL`` with the deadline, migration 0011)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import asyncpg
from opentelemetry.instrumentation.utils import suppress_instrumentation

from services.telemedicine.adapters import repository
from services.telemedicine.service import ladder_climb
from services.telemedicine.service.context import TelemedicineContext
from shared.workers import ScheduledTask

log = logging.getLogger(__name__)

# NOTIFY channel (suffixed with the schema); the payload is the consult's next deadline.
DEADLINE_CHANNEL = "consult_deadline_"


class ConsultEscalation(ScheduledTask):
    name = "consult-escalation"

    def __init__(self, *, pool: asyncpg.Pool, context: TelemedicineContext, retry_s: float) -> None:
        super().__init__(retry_s=retry_s)
        self._pool = pool
        self._context = context

    async def tick(self) -> None:
        now = datetime.now(UTC)
        async with self._pool.acquire() as connection:
            with suppress_instrumentation():  # a watcher's look: no trace of its own
                overdue = await repository.overdue_consult_ids(connection, now=now)
        for consult_id in overdue:
            try:
                async with self._pool.acquire() as connection, connection.transaction():
                    await ladder_climb.escalate_if_overdue(
                        connection, consult_id=consult_id, context=self._context, now=now
                    )
            except Exception:
                # One consult that cannot move on must not hold back the others behind it.
                log.exception("escalating consult %s failed", consult_id)

    async def next_due(self) -> float | None:
        async with self._pool.acquire() as connection:
            with suppress_instrumentation():
                return await repository.next_consult_deadline(connection)
