"""Exactly-once effects per referral, read from the services' own tables once the system is
quiet: outboxes empty, every consumer group's lag 0, no delivery left pending.

Per referral answered 200 (``lost`` if missing, ``duplicated`` if more than once):
- one Task (referral.referral);
- one consult (telemedicine.consult) when a teleconsult was requested;
- per notification request (a notification-requested message in an outbox): at least one
  delivery (a delivery per recipient and channel is unique by constraint);
- per delivery sent: one notification-sent message and its timeline entry once; for a live
  event to the hospital's web pages (channel in-app, told to nobody yet), one live event;
- the referral-requested and teleconsult-requested timeline entries once; and no message on the
  timeline twice.
Webhook calls repeated with the same Idempotency-Key (a crash mid-send) are counted apart: the
receiver sees the key and keeps one.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

from tests.e2e.harness import WebhookReceiver

SCHEMAS = ("referral", "telemedicine", "notifier")
GROUPS = tuple(f"fasttrack-{schema}" for schema in SCHEMAS)
IN_APP = "in-app"


@dataclass
class Quiet:
    unsent_outbox: dict[str, int]
    lag: dict[str, int]
    pending_deliveries: int

    @property
    def reached(self) -> bool:
        return (
            not any(self.unsent_outbox.values())
            and not any(self.lag.values())
            and self.pending_deliveries == 0
        )


async def quiet_state(pool: asyncpg.Pool, bootstrap_servers: str) -> Quiet:
    unsent = {
        schema: int(
            await pool.fetchval(f"SELECT count(*) FROM {schema}.outbox WHERE published_at IS NULL")
        )
        for schema in SCHEMAS
    }
    pending = int(
        await pool.fetchval("SELECT count(*) FROM notifier.delivery WHERE status = 'pending'")
    )
    return Quiet(unsent, await consumer_lag(bootstrap_servers), pending)


async def consumer_lag(bootstrap_servers: str) -> dict[str, int]:
    """Per consumer group: messages on its topics' partitions not yet committed."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers)
    await admin.start()
    await reader.start()
    try:
        lag = {}
        for group in GROUPS:
            committed = await admin.list_consumer_group_offsets(group)
            topics = {tp.topic for tp in committed}
            partitions = [
                TopicPartition(topic, p)
                for topic in topics
                for p in reader.partitions_for_topic(topic) or await _partitions(reader, topic)
            ]
            ends = await reader.end_offsets(partitions)
            lag[group] = sum(
                ends[tp] - (committed[tp].offset if tp in committed else 0) for tp in partitions
            )
        return lag
    finally:
        await reader.stop()
        await admin.close()


async def _partitions(reader: AIOKafkaConsumer, topic: str) -> set[int]:
    # aiokafka has no public way to refresh a consumer's metadata for a topic it does not read.
    await reader._client.force_metadata_update()
    return reader.partitions_for_topic(topic) or set()


async def wait_until_quiet(
    pool: asyncpg.Pool, bootstrap_servers: str, *, timeout_s: float
) -> tuple[Quiet, float]:
    """Polls until quiet or ``timeout_s``; returns the last state and the seconds it took."""
    began = time.monotonic()
    while True:
        state = await quiet_state(pool, bootstrap_servers)
        if state.reached or time.monotonic() - began > timeout_s:
            return state, time.monotonic() - began
        await asyncio.sleep(1.0)


@dataclass
class Findings:
    """Counts over every referral answered 200, and the referrals behind each non-zero count."""

    lost: Counter[str] = field(default_factory=Counter)
    duplicated: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    effects: Counter[str] = field(default_factory=Counter)
    webhook_repeats_same_key: int = 0

    def count(self, effect: str, referral_id: str, expected: int, found: int) -> None:
        """Records ``effect`` of ``referral_id``: ``found`` where ``expected`` (1) was due."""
        self.effects[effect] += min(found, expected)
        if found < expected:
            self.lost[effect] += expected - found
            self._example(f"lost {effect}", referral_id)
        elif found > expected:
            self.duplicated[effect] += found - expected
            self._example(f"duplicated {effect}", referral_id)

    def _example(self, what: str, referral_id: str) -> None:
        if len(self.examples[what]) < 5:
            self.examples[what].append(referral_id)

    def as_dict(self) -> dict[str, Any]:
        return {
            "effects_checked": dict(self.effects),
            "lost": dict(self.lost),
            "duplicated": dict(self.duplicated),
            "lost_total": sum(self.lost.values()),
            "duplicated_total": sum(self.duplicated.values()),
            "examples": dict(self.examples),
            "webhook_repeats_same_key": self.webhook_repeats_same_key,
        }


async def audit(
    pool: asyncpg.Pool, accepted: dict[str, bool], webhook: WebhookReceiver
) -> Findings:
    """``accepted``: referral id -> teleconsult requested, for every referral answered 200."""
    ids = list(accepted)
    findings = Findings()
    tasks = _tally(
        await pool.fetch("SELECT id AS k FROM referral.referral WHERE id = ANY($1)", ids)
    )
    consults = _tally(
        await pool.fetch(
            "SELECT referral_id AS k FROM telemedicine.consult WHERE referral_id = ANY($1)", ids
        )
    )
    requests = await pool.fetch(
        """SELECT message_key, message_id FROM referral.outbox
           WHERE event_code = 'notification-requested' AND message_key = ANY($1)
           UNION ALL
           SELECT message_key, message_id FROM telemedicine.outbox
           WHERE event_code = 'notification-requested' AND message_key = ANY($1)""",
        ids,
    )
    deliveries = await pool.fetch(
        """SELECT id, referral_id, split_part(request_id, '/', 1) AS request, channel, status
           FROM notifier.delivery WHERE referral_id = ANY($1)""",
        ids,
    )
    sent_messages = await pool.fetch(
        """SELECT message_id,
                  convert_from(payload, 'UTF8')::jsonb
                      #>> '{entry,0,resource,focus,0,reference}' AS focus
           FROM notifier.outbox
           WHERE event_code = 'notification-sent' AND message_key = ANY($1)""",
        ids,
    )
    live_events = Counter(
        row["delivery_id"]
        for row in await pool.fetch(
            """SELECT delivery_id FROM notifier.live_event
               WHERE kind = 'notification' AND payload->>'referral' = ANY($1)""",
            ids,
        )
    )
    timeline = await pool.fetch(
        """SELECT referral_id, event_code, message_id FROM referral.timeline_entry
           WHERE referral_id = ANY($1)""",
        ids,
    )
    timeline_by_message = Counter(row["message_id"] for row in timeline if row["message_id"])
    timeline_events = Counter((row["referral_id"], row["event_code"]) for row in timeline)
    requests_of: dict[str, list[str]] = defaultdict(list)
    for row in requests:
        requests_of[row["message_key"]].append(row["message_id"])
    deliveries_of_request = Counter(row["request"] for row in deliveries)
    sent_for: dict[str, list[str]] = defaultdict(list)
    for row in sent_messages:
        sent_for[str(row["focus"]).removeprefix("Communication/com-")].append(row["message_id"])
    sent_deliveries: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in deliveries:
        if row["status"] == "sent":
            sent_deliveries[row["referral_id"]].append((row["id"], row["channel"]))

    for referral_id, teleconsult in accepted.items():
        findings.count("task", referral_id, 1, tasks[referral_id])
        findings.count("consult", referral_id, int(teleconsult), consults[referral_id])
        for event, due in (("referral-requested", 1), ("teleconsult-requested", int(teleconsult))):
            found = timeline_events[(referral_id, event)]
            findings.count(f"timeline {event}", referral_id, due, found)
        for request in requests_of[referral_id]:
            found = min(1, deliveries_of_request[request])  # one row per recipient and channel
            findings.count("delivery per notification request", referral_id, 1, found)
        for delivery, channel in sent_deliveries[referral_id]:
            if channel == IN_APP:
                found = live_events[delivery]
                findings.count("live event per in-app delivery", referral_id, 1, found)
                continue
            messages = sent_for.get(delivery, [])
            findings.count("notification-sent per delivery", referral_id, 1, len(messages))
            for message_id in messages:
                found = timeline_by_message[message_id]
                findings.count("timeline notification-sent", referral_id, 1, found)
    repeated = Counter(
        (row["referral_id"], row["message_id"], row["event_code"])
        for row in timeline
        if row["message_id"]
    )
    for (referral_id, _, _), found in repeated.items():
        if found > 1:
            findings.count("timeline entry per message", referral_id, 1, found)
    calls = Counter(
        n.idempotency_key for n in webhook.received if n.body.get("referral") in accepted
    )
    findings.webhook_repeats_same_key = sum(found - 1 for found in calls.values())
    return findings


def _tally(rows: list[asyncpg.Record]) -> Counter[str]:
    return Counter(row["k"] for row in rows)
