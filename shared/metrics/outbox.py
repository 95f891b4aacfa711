"""The outbox's backlog and the age of its oldest unpublished row (shared/messaging/outbox.py):
a relay that cannot publish (the broker away, a row it cannot send) shows here first."""

from __future__ import annotations

import asyncpg
from opentelemetry import metrics

from shared.metrics.sampled import SampledGauge


class OutboxBacklog:
    def __init__(self, *, pool: asyncpg.Pool, meter: metrics.Meter, service: str) -> None:
        self._pool = pool
        self._labels = {"service": service}
        self.backlog = SampledGauge(
            meter,
            "fasttrack.outbox.backlog",
            unit="{message}",
            description="Outbox rows not yet published to Kafka",
        )
        self.oldest_age = SampledGauge(
            meter,
            "fasttrack.outbox.oldest_unpublished_age",
            unit="s",
            description="Age of the oldest outbox row not yet published (0 when none waits)",
        )
        self.gauges = (self.backlog, self.oldest_age)

    async def sample(self) -> None:
        row = await self._pool.fetchrow(
            """
            SELECT count(*) AS backlog,
                   coalesce(extract(epoch FROM now() - min(created_at)), 0) AS oldest_age
            FROM outbox WHERE published_at IS NULL
            """
        )
        if row is None:  # an aggregate always has its row
            raise RuntimeError("the outbox query returned no row")
        self.backlog.set([(self._labels, float(row["backlog"]))])
        self.oldest_age.set([(self._labels, float(row["oldest_age"]))])
