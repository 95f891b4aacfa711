"""The check-ins' clock: a patient whose check-in is late is reminded (LINE or SMS, through the
notifier), and later the managing hospital's nurses are alerted. One transaction per episode,
under its row lock, so a check-in arriving at the same moment wins or waits.

It sleeps until the next reminder or alert falls due; an episode written with an earlier
check-in wakes it (the episode table's trigger NOTIFYs ``CHECK_IN_CHANNEL`` with the check-in's
time, migration 0011)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import asyncpg
from opentelemetry.instrumentation.utils import suppress_instrumentation

from services.telemedicine.adapters import monitoring_repository as repository
from services.telemedicine.service import monitoring
from services.telemedicine.service.monitoring_context import MonitoringContext
from shared.workers import ScheduledTask

log = logging.getLogger(__name__)

# NOTIFY channel (suffixed with the schema); the payload is the episode's next check-in.
CHECK_IN_CHANNEL = "check_in_due_"


class MissedCheckIns(ScheduledTask):
    name = "missed-check-ins"

    def __init__(self, *, pool: asyncpg.Pool, context: MonitoringContext, retry_s: float) -> None:
        super().__init__(retry_s=retry_s)
        self._pool = pool
        self._context = context
        # Nothing is due before the earliest reminder of any programme.
        self._earliest = min(
            min(p.remind_after, p.alert_after) for p in context.programmes.values()
        )

    def notice_check_in(self, due: float | None = None) -> None:
        """An episode's check-in at ``due`` (epoch seconds): chased no sooner than the earliest
        reminder after it."""
        self.notice(None if due is None else due + self._earliest.total_seconds())

    async def tick(self) -> None:
        now = datetime.now(UTC)
        async with self._pool.acquire() as connection:
            with suppress_instrumentation():  # a watcher's look: no trace of its own
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

    async def next_due(self) -> float | None:
        async with self._pool.acquire() as connection:
            with suppress_instrumentation():
                earliest = await repository.earliest_unanswered_check_ins(connection)
        times = []
        for name, reminded, check_in in earliest:
            programme = self._context.programmes.get(name)
            if programme is None:  # chasing it fails (and says why): tried again after retry_s
                after = self._earliest
            elif reminded:
                after = programme.alert_after
            else:
                after = min(programme.remind_after, programme.alert_after)
            times.append((check_in + after).timestamp())
        return min(times, default=None)
