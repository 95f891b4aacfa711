"""The referral service's gauges for operators (shared/metrics/sampled.py).

- The last message from each hospital system, and how many it sent in the last 7 days (its
  usual rhythm): a hospital whose system went silent shows, and the alert rule
  (deploy/prometheus/alerts.yml) compares the silence with that rhythm.
- Referral to first page: from a referral's arrival to its first page sent (the notifier's
  ``notification-sent`` on the timeline), quantiles over the referrals of the last hour.

Labels are hospital ids (Organization ids from the directory) and quantiles: no patient data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg
from opentelemetry import metrics

from services.referral.entrypoints.messaging_api import PROCESS_MESSAGE_INBOX
from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.messaging.topics import HOSPITAL_INBOUND
from shared.metrics.sampled import LATENCY_WINDOW, SampledGauge, quantile_readings

ORGANIZATION = "Organization/"

# What hospital systems sent: over REST ($process-message) or on their own Kafka topic.
_HOSPITAL_MESSAGES = """
SELECT substr(sender, length($3) + 1) AS hospital,
       max(received_at) AS last_message,
       count(*) FILTER (WHERE received_at > now() - interval '7 days') AS last_7_days,
       (array_agg(topic ORDER BY received_at DESC))[1] = $1 AS last_over_rest
FROM inbox
WHERE (topic = $1 OR starts_with(topic, $2)) AND starts_with(sender, $3)
GROUP BY sender
"""

_FIRST_PAGE_LATENCY = """
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS q50,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds) AS q90
FROM (
    SELECT extract(epoch FROM min(entry.occurred_at) - referral.created_at) AS seconds
    FROM referral JOIN timeline_entry AS entry
         ON entry.referral_id = referral.id AND entry.event_code = $2
    WHERE referral.created_at > now() - $1::interval
    GROUP BY referral.id, referral.created_at
) AS first_pages
"""


@dataclass(frozen=True)
class HospitalConnector:
    """What a hospital system has sent the network: when last, how often, and how."""

    hospital: str
    last_message: datetime
    messages_7d: int
    # Its last message came over REST ($process-message) rather than its Kafka topic.
    last_over_rest: bool


async def hospital_connectors(connection: Connection) -> list[HospitalConnector]:
    """Every hospital system that has sent a message (the operators' console and the gauges)."""
    rows = await connection.fetch(
        _HOSPITAL_MESSAGES, PROCESS_MESSAGE_INBOX, HOSPITAL_INBOUND.name, ORGANIZATION
    )
    return [
        HospitalConnector(
            hospital=row["hospital"],
            last_message=row["last_message"],
            messages_7d=row["last_7_days"],
            last_over_rest=row["last_over_rest"],
        )
        for row in rows
    ]


class HospitalMessages:
    def __init__(self, *, pool: asyncpg.Pool, meter: metrics.Meter) -> None:
        self._pool = pool
        self.last_message = SampledGauge(
            meter,
            "fasttrack.hospital.last_message",
            unit="s",
            description="When the hospital's system last sent a message (Unix time)",
        )
        self.last_7_days = SampledGauge(
            meter,
            "fasttrack.hospital.messages_7d",
            unit="{message}",
            description="Messages the hospital's system sent in the last 7 days (its rhythm)",
        )
        self.gauges = (self.last_message, self.last_7_days)

    async def sample(self) -> None:
        async with self._pool.acquire() as connection:
            connectors = await hospital_connectors(connection)
        self.last_message.set(
            ({"hospital": c.hospital}, c.last_message.timestamp()) for c in connectors
        )
        self.last_7_days.set(({"hospital": c.hospital}, float(c.messages_7d)) for c in connectors)


class FirstPageLatency:
    def __init__(self, *, pool: asyncpg.Pool, meter: metrics.Meter) -> None:
        self._pool = pool
        self.latency = SampledGauge(
            meter,
            "fasttrack.referral.first_page.latency",
            unit="s",
            description="From a referral's arrival to its first page sent (quantiles over the "
            "referrals of the last hour)",
        )
        self.gauges = (self.latency,)

    async def sample(self) -> None:
        row = await self._pool.fetchrow(
            _FIRST_PAGE_LATENCY, LATENCY_WINDOW, EventCode.NOTIFICATION_SENT.value
        )
        self.latency.set(quantile_readings({}, row) if row is not None else [])
