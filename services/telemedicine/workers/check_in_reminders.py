"""The check-ins' clock: a patient whose check-in is late is reminded (LINE or SMS, through the
notifier), and later the managing hospital's nurses are alerted. One transaction per episode,
under its row lock, so a check-in arriving at the same moment wins or waits."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import asyncpg
from opentelemetry.instrumentation.utils import suppress_instrumentation

from services.telemedicine.adapters import monitoring_repository as repository
from services.telemedicine.service import monitoring
from services.telemedicine.service.monitoring_context import MonitoringContext
from shared.workers import PeriodicTask

log = logging.getLogger(__name__)


class MissedCheckIns(PeriodicTask):
    name = "missed-check-ins"

    def __init__(
        self, *, pool: asyncpg.Pool, context: MonitoringContext, poll_interval_s: float
    ) -> None:
        super().__init__(poll_interval_s=poll_interval_s)
        self._pool = pool
        self._context = context
        # Nothing is due before the earliest reminder of any programme.
        self._earliest = min(p.remind_after for p in context.programmes.values())

    async def tick(self) -> None:
        now = datetime.now(UTC)
        async with self._pool.acquire() as connection:
            with suppress_instrumentation():  # polled: no trace of its own
                late = await repository.overdue_episode_ids(
                    connection, due_before=now - self._earliest
                )
        for episode_id in late:
            try:
                async with self._pool.acquire() as connection, connection.transaction():
                    await monitoring.chase_missed_check_in(
                        connection, episode_id=episode_id, context=self._context, now=now
                    )
            except Exception:
                # One episode that cannot be chased must not hold back the others behind it.
                log.exception("chasing the check-in of episode %s failed", episode_id)
