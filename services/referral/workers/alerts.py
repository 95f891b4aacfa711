"""The time-critical alert watcher: raises each alert that has fallen due
(service/alerts.py decides which, and asks the notifier)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from opentelemetry.instrumentation.utils import suppress_instrumentation

from services.referral.service import alerts
from services.referral.workers.referral_watcher import ReferralWatcher

log = logging.getLogger(__name__)


class AlertWatcher(ReferralWatcher):
    """Looks at every referral in play every few seconds and raises what has fallen due."""

    name = "referral-alert-watcher"

    async def tick(self) -> None:
        await self.sweep()

    async def sweep(self) -> int:
        now = datetime.now(UTC)
        raised = 0
        with suppress_instrumentation():  # a poll: each alert's event is traced by the notifier
            async with self._pool.acquire() as connection:
                ids = await alerts.referrals_with_alerts_in_reach(connection, now=now)
        for referral_id in ids:
            try:
                async with self._pool.acquire() as connection, connection.transaction():
                    raised += await alerts.raise_due_alerts_of(
                        connection, referral_id=referral_id, context=self._context, now=now
                    )
            except Exception:
                # One referral's bad data must not stop the alerts of all the others.
                log.exception("alerts of referral %s failed", referral_id)
        return raised
