"""What the referral service's watchers (accept-by deadlines, time-critical alerts) share: a look
at the referral database with the use cases' context when work falls due (shared/workers.py)."""

from __future__ import annotations

import asyncpg

from services.referral.service.context import ReferralContext
from shared.workers import ScheduledTask


class ReferralWatcher(ScheduledTask):
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        context: ReferralContext,
        retry_s: float,
        recheck_s: float = 60.0,
        min_gap_s: float = 0.0,
    ) -> None:
        super().__init__(retry_s=retry_s, recheck_s=recheck_s, min_gap_s=min_gap_s)
        self._pool = pool
        self._context = context
