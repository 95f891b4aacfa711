"""What the referral service's watchers (accept-by deadlines, time-critical alerts) share: a
periodic look at the referral database with the use cases' context."""

from __future__ import annotations

import asyncpg

from services.referral.service.context import ReferralContext
from shared.workers import PeriodicTask


class ReferralWatcher(PeriodicTask):
    def __init__(
        self, *, pool: asyncpg.Pool, context: ReferralContext, poll_interval_s: float
    ) -> None:
        super().__init__(poll_interval_s=poll_interval_s)
        self._pool = pool
        self._context = context
