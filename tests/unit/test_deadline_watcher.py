"""The accept-by deadline watcher: one overdue referral that cannot be re-routed (bad data, a bug)
must not hold back the re-routing of every referral behind it."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import asyncpg

from services.referral.service.context import ReferralContext
from services.referral.workers.deadlines import DeadlineWatcher


class WatcherWithOneBrokenReferral(DeadlineWatcher):
    """The watcher's round, with the database replaced by three overdue referrals of which the
    most overdue always fails."""

    def __init__(self) -> None:
        super().__init__(
            pool=cast(asyncpg.Pool, None),
            context=ReferralContext(source_endpoint="test", public_url="http://test"),
            poll_interval_s=1,
        )
        self.rerouted: list[str] = []

    async def overdue_referral_ids(self, now: datetime) -> list[str]:
        return ["broken", "second", "third"]

    async def reroute_if_overdue(self, referral_id: str, now: datetime) -> bool:
        if referral_id == "broken":
            raise ValueError("a referral whose data the routing cannot read")
        self.rerouted.append(referral_id)
        return True


async def test_a_referral_that_cannot_be_rerouted_does_not_hold_back_the_others() -> None:
    watcher = WatcherWithOneBrokenReferral()

    await watcher.tick()
    await watcher.tick()  # the broken one is tried again next round; the others are not stuck

    assert watcher.rerouted == ["second", "third", "second", "third"]
