"""The time-critical alert watcher: raises each alert that has fallen due
(service/alerts.py decides which, and asks the notifier). It sleeps until the next alert or
window falls due; a change to a referral, its clock or its timeline wakes it (NOTIFY, migrations
0009 and 0013), at most once per ``min_gap_s``: under load it looks as often as it polled."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import asyncpg
from opentelemetry.instrumentation.utils import suppress_instrumentation

from services.referral.service import alerts
from services.referral.service.context import ReferralContext
from services.referral.workers.referral_watcher import ReferralWatcher

log = logging.getLogger(__name__)

# NOTIFY channel (suffixed with the schema): a milestone of a patient's clock was written.
CLOCK_CHANNEL = "referral_clock_"


class AlertWatcher(ReferralWatcher):
    """Looks at the referrals in play when an alert may have fallen due, and raises it.

    A referral is examined again only when what its alerts are computed from changed (its
    version), when its next alert falls due, or ``look_again_s`` after it was last examined
    (a bound, in case something it depends on changed unseen): a patient inside a 4.5-hour
    window was a transaction of five statements every poll for as long as it lasted."""

    name = "referral-alert-watcher"
    look_again_s = 60.0

    def __init__(self, *, pool: asyncpg.Pool, context: ReferralContext, retry_s: float) -> None:
        super().__init__(pool=pool, context=context, retry_s=retry_s, min_gap_s=retry_s)
        # Referral id -> (its version when examined, when it must be examined again).
        self._quiet: dict[str, tuple[str, datetime]] = {}
        self._failed = False  # a referral's alerts failed in the last sweep

    def notice_change(self, _due: float | None = None) -> None:
        """A referral, its clock or its timeline changed: look again (whatever the payload)."""
        self.notice(None)

    async def tick(self) -> None:
        await self.sweep()

    async def next_due(self) -> float | None:
        if self._failed:
            return time.time()  # tried again after retry_s
        with suppress_instrumentation():
            async with self._pool.acquire() as connection:
                opens = await alerts.next_reach_at(connection, now=datetime.now(UTC))
        again = [at.timestamp() for _, at in self._quiet.values()]
        return min([*again, *([] if opens is None else [opens])], default=None)

    async def sweep(self) -> int:
        now = datetime.now(UTC)
        raised = 0
        with suppress_instrumentation():  # a poll: each alert's event is traced by the notifier
            async with self._pool.acquire() as connection:
                in_reach = await alerts.referrals_in_reach_with_versions(connection, now=now)
        quiet: dict[str, tuple[str, datetime]] = {}
        self._failed = False
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
                self._failed = True
                continue
            raised += count
            look_again = now + timedelta(seconds=self.look_again_s)
            quiet[referral_id] = (version, min(following or look_again, look_again))
        self._quiet = quiet  # referrals out of reach are forgotten
        return raised
