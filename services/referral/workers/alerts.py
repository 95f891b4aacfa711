"""The time-critical alert watcher: raises each alert that has fallen due
(service/alerts.py decides which, and asks the notifier)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import asyncpg
from opentelemetry.instrumentation.utils import suppress_instrumentation

from services.referral.service import alerts
from services.referral.service.context import ReferralContext
from services.referral.workers.referral_watcher import ReferralWatcher

log = logging.getLogger(__name__)


class AlertWatcher(ReferralWatcher):
    """Looks at every referral in play every few seconds and raises what has fallen due.

    A referral is examined again only when what its alerts are computed from changed (its
    version), when its next alert falls due, or ``look_again_s`` after it was last examined
    (a bound, in case something it depends on changed unseen): a patient inside a 4.5-hour
    window was a transaction of five statements every poll for as long as it lasted."""

    name = "referral-alert-watcher"
    look_again_s = 60.0

    def __init__(
        self, *, pool: asyncpg.Pool, context: ReferralContext, poll_interval_s: float
    ) -> None:
        super().__init__(pool=pool, context=context, poll_interval_s=poll_interval_s)
        # Referral id -> (its version when examined, when it must be examined again).
        self._quiet: dict[str, tuple[str, datetime]] = {}

    async def tick(self) -> None:
        await self.sweep()

    async def sweep(self) -> int:
        now = datetime.now(UTC)
        raised = 0
        with suppress_instrumentation():  # a poll: each alert's event is traced by the notifier
            async with self._pool.acquire() as connection:
                in_reach = await alerts.referrals_in_reach_with_versions(connection, now=now)
        quiet: dict[str, tuple[str, datetime]] = {}
        for referral_id, version in in_reach:
            known = self._quiet.get(referral_id)
            if known is not None and known[0] == version and now < known[1]:
                quiet[referral_id] = known
                continue
            try:
                async with self._pool.acquire() as connection, connection.transaction():
                    count, following = await alerts.examine_alerts_of(
                        connection, referral_id=referral_id, context=self._context, now=now
                    )
            except Exception:
                # One referral's bad data must not stop the alerts of all the others.
                log.exception("alerts of referral %s failed", referral_id)
                continue
            raised += count
            look_again = now + timedelta(seconds=self.look_again_s)
            quiet[referral_id] = (version, min(following or look_again, look_again))
        self._quiet = quiet  # referrals out of reach are forgotten
        return raised
