"""The referral service's gauges for operators (shared/metrics/sampled.py).

- The last message from each hospital system, and how many it sent in the last 7 days (its
  usual rhythm): a hospital whose system went silent shows, and the alert rule
  (deploy/prometheus/alerts.yml) compares the silence with that rhythm.
- Referral to first page: from a referral's arrival to its first page sent (the notifier's
  ``notification-sent`` on the timeline), quantiles over the referrals of the last hour.

Labels are hospital ids (Organization ids from the directory) and quantiles: no patient data.
"""

from __future__ import annotations

import asyncpg
from opentelemetry import metrics

from services.referral.entrypoints.messaging_api import PROCESS_MESSAGE_INBOX
from shared.fhir.codes import EventCode
from shared.messaging.topics import HOSPITAL_INBOUND
from shared.metrics.sampled import LATENCY_WINDOW, SampledGauge, quantile_readings

ORGANIZATION = "Organization/"

# What hospital systems sent: over REST ($process-message) or on their own Kafka topic.
_HOSPITAL_MESSAGES = """
SELECT substr(sender, length($3) + 1) AS hospital,
       extract(epoch FROM max(received_at)) AS last_message,
       count(*) FILTER (WHERE received_at > now() - interval '7 days') AS last_7_days
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
        rows = await self._pool.fetch(
            _HOSPITAL_MESSAGES, PROCESS_MESSAGE_INBOX, HOSPITAL_INBOUND.name, ORGANIZATION
        )
        self.last_message.set(
            ({"hospital": row["hospital"]}, float(row["last_message"])) for row in rows
        )
        self.last_7_days.set(
            ({"hospital": row["hospital"]}, float(row["last_7_days"])) for row in rows
        )


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
