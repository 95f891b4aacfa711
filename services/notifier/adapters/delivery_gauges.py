"""The notifier's gauges for operators (shared/metrics/sampled.py): dead letters (deliveries
that finally failed, waiting for a replay), the queue, and over the last hour how long a page
took to go out and to be acknowledged, per channel. Channels only: no recipient, no referral."""

from __future__ import annotations

import asyncpg
from opentelemetry import metrics

from services.notifier.domain.model import Channel
from shared.metrics.sampled import LATENCY_WINDOW, SampledGauge, quantile_readings

_BY_STATUS = """
SELECT channel, count(*) FILTER (WHERE status = 'failed') AS failed,
       count(*) FILTER (WHERE status = 'pending') AS pending
FROM delivery WHERE status IN ('failed', 'pending') GROUP BY channel
"""
_DELIVERY_LATENCY = """
SELECT channel,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - created_at)) AS q50,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - created_at)) AS q90
FROM delivery WHERE sent_at > now() - $1::interval GROUP BY channel
"""
_ACKNOWLEDGEMENT_LATENCY = """
SELECT channel,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM acknowledged_at - sent_at))
           AS q50,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM acknowledged_at - sent_at))
           AS q90
FROM delivery WHERE acknowledged_at > now() - $1::interval AND sent_at IS NOT NULL
GROUP BY channel
"""


class DeliveryGauges:
    def __init__(self, *, pool: asyncpg.Pool, meter: metrics.Meter) -> None:
        self._pool = pool
        self.dead_letters = SampledGauge(
            meter,
            "fasttrack.notifier.dead_letters",
            unit="{delivery}",
            description="Deliveries that finally failed and wait for a replay, by channel",
        )
        self.pending = SampledGauge(
            meter,
            "fasttrack.notifier.pending",
            unit="{delivery}",
            description="Deliveries queued or being retried, by channel",
        )
        self.delivery_latency = SampledGauge(
            meter,
            "fasttrack.notifier.delivery.latency",
            unit="s",
            description="From the notification request to the message sent, by channel "
            "(quantiles over the last hour)",
        )
        self.acknowledgement_latency = SampledGauge(
            meter,
            "fasttrack.notifier.acknowledgement.latency",
            unit="s",
            description="From the alert sent to its acknowledgement, by channel "
            "(quantiles over the last hour)",
        )
        self.gauges = (
            self.dead_letters,
            self.pending,
            self.delivery_latency,
            self.acknowledgement_latency,
        )

    async def sample(self) -> None:
        async with self._pool.acquire() as connection:
            by_status = {row["channel"]: row for row in await connection.fetch(_BY_STATUS)}
            sent = await connection.fetch(_DELIVERY_LATENCY, LATENCY_WINDOW)
            acknowledged = await connection.fetch(_ACKNOWLEDGEMENT_LATENCY, LATENCY_WINDOW)
        # Every channel has its series, 0 included: a drained queue reads 0, not "no data".
        for gauge, column in ((self.dead_letters, "failed"), (self.pending, "pending")):
            gauge.set(
                (
                    {"channel": channel.value},
                    float(by_status[channel.value][column] if channel.value in by_status else 0),
                )
                for channel in Channel
            )
        self.delivery_latency.set(
            reading
            for row in sent
            for reading in quantile_readings({"channel": row["channel"]}, row)
        )
        self.acknowledgement_latency.set(
            reading
            for row in acknowledged
            for reading in quantile_readings({"channel": row["channel"]}, row)
        )
