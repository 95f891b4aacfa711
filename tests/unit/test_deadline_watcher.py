"""The accept-by deadline watcher: one overdue referral that cannot be re-routed (bad data, a bug)
must not hold back the re-routing of every referral behind it, and must reach an operator: the
count of referrals failing re-routing is a metric (the alert rule ReroutingFailing is on it)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import asyncpg
from opentelemetry import metrics
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from prometheus_client import CollectorRegistry, generate_latest

from services.referral.service.context import ReferralContext
from services.referral.workers.deadlines import DeadlineWatcher
from tests.metrics_scrape import parse, total


class WatcherWithOneBrokenReferral(DeadlineWatcher):
    """The watcher's round, with the database replaced by three overdue referrals of which the
    most overdue always fails."""

    def __init__(self, meter: metrics.Meter | None = None) -> None:
        super().__init__(
            pool=cast(asyncpg.Pool, None),
            context=ReferralContext(source_endpoint="test", public_url="http://test"),
            retry_s=1,
            meter=meter,
        )
        self.rerouted: list[str] = []
        self.broken = {"broken"}

    async def overdue_referral_ids(self, now: datetime) -> list[str]:
        return ["broken", "second", "third"]

    async def reroute_if_overdue(self, referral_id: str, now: datetime) -> bool:
        if referral_id in self.broken:
            raise ValueError("a referral whose data the routing cannot read")
        self.rerouted.append(referral_id)
        return True


async def test_a_referral_that_cannot_be_rerouted_does_not_hold_back_the_others() -> None:
    watcher = WatcherWithOneBrokenReferral()

    await watcher.tick()
    await watcher.tick()  # the broken one is tried again next round; the others are not stuck

    assert watcher.rerouted == ["second", "third", "second", "third"]


async def test_a_referral_failing_rerouting_every_round_is_counted_until_it_is_mended() -> None:
    registry = CollectorRegistry()
    provider = MeterProvider(
        metric_readers=[PrometheusMetricReader(scope_info_enabled=False, registry=registry)]
    )
    watcher = WatcherWithOneBrokenReferral(meter=provider.get_meter("test"))

    def failing() -> float | None:
        samples = parse(generate_latest(registry).decode())
        return total(samples, "fasttrack_referral_rerouting_failing")

    assert failing() == 0
    for _ in range(2):
        await watcher.tick()
        assert failing() == 1  # the same referral, every round: one referral, not a sum
    watcher.broken.clear()  # its data mended: it is re-routed at the next round
    await watcher.tick()
    assert failing() == 0
    assert "broken" in watcher.rerouted
    provider.shutdown()
