"""The accept-by deadline watcher: re-routes referrals nobody accepted in time
(service/rerouting.py does the cancelling and re-routing). It sleeps until the earliest deadline;
a referral written with an earlier one wakes it (the referral table's trigger NOTIFYs
``DEADLINE_CHANNEL`` with the deadline, migration 0013).

A referral whose re-routing fails is logged and tried again every round; how many failed in the
last round is the gauge ``fasttrack_referral_rerouting_failing`` (a count, no ids), and the
alert rule ReroutingFailing (deploy/prometheus/alerts.yml) brings a lasting one to an operator:
a patient nobody accepted and nobody else is being asked for."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import asyncpg
from opentelemetry import metrics
from opentelemetry.instrumentation.utils import suppress_instrumentation

from services.referral.adapters import repository
from services.referral.service import rerouting
from services.referral.service.context import ReferralContext
from services.referral.workers.referral_watcher import ReferralWatcher

log = logging.getLogger(__name__)

# NOTIFY channel (suffixed with the schema); the payload is the referral's accept-by deadline.
DEADLINE_CHANNEL = "referral_deadline_"


class DeadlineWatcher(ReferralWatcher):
    """Cancels and re-routes referrals nobody accepted by their accept-by deadline."""

    name = "referral-deadline-watcher"

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        context: ReferralContext,
        retry_s: float,
        meter: metrics.Meter | None = None,
    ) -> None:
        super().__init__(pool=pool, context=context, retry_s=retry_s)
        self.failing = 0  # referrals whose re-routing failed in the last round
        if meter is not None:
            meter.create_observable_gauge(
                "fasttrack.referral.rerouting.failing",
                callbacks=[lambda _: [metrics.Observation(self.failing)]],
                unit="{referral}",
                description="Overdue referrals whose re-routing failed in the last round "
                "(each is tried again every round)",
            )

    async def tick(self) -> None:
        now = datetime.now(UTC)
        failing = 0
        for referral_id in await self.overdue_referral_ids(now):
            try:
                await self.reroute_if_overdue(referral_id, now)
            except Exception:
                # One referral that cannot be re-routed (bad data, a bug) must not hold back the
                # others behind it: it is logged and tried again ``retry_s`` later.
                log.exception("re-routing overdue referral %s failed", referral_id)
                failing += 1
        self.failing = failing

    async def next_due(self) -> float | None:
        async with self._pool.acquire() as connection:
            with suppress_instrumentation():
                return await repository.next_accept_by(connection)

    async def overdue_referral_ids(self, now: datetime) -> list[str]:
        """Referrals past their accept-by deadline, most overdue first."""
        async with self._pool.acquire() as connection:
            with suppress_instrumentation():  # a watcher's look: no trace of its own
                return await repository.overdue_referral_ids(connection, now=now)

    async def reroute_if_overdue(self, referral_id: str, now: datetime) -> bool:
        """One overdue referral, in its own transaction."""
        async with self._pool.acquire() as connection, connection.transaction():
            return await rerouting.reroute_if_overdue(
                connection, referral_id=referral_id, context=self._context, now=now
            )
