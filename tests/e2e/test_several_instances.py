"""Two instances of each consumer service on one machine, each pair one consumer group over topics
of several partitions (FT_KAFKA_TOPIC_PARTITIONS): while hospitals' messages stream in, one
instance of each service is SIGKILLed, and the survivors take its partitions over (Kafka's
rebalance). Every referral's messages are still applied in the order they were sent, each effect
exactly once (no referral lost, no page or delivery doubled), every message answered.

Its own stack (.local-stack/instances, the suite's ports + 70), like the chaos run's: the
session's services would otherwise join the same consumer groups."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment

from bench.chaos.audit import audit, wait_until_quiet
from shared.messaging.broker import consumer_group
from shared.messaging.topics import HOSPITAL_INBOUND, Topic, hospital_responses
from tests.e2e.harness import CONTACTS, ServiceProcesses, WebhookReceiver, serve_webhook
from tests.support import (
    ROOT,
    TOPICS_READ,
    TestStack,
    eventually,
    hospital_message,
    referral_bundle,
)
from tests.support import shifted_port as suite_port

pytestmark = pytest.mark.e2e

SHIFT = 70
PARTITIONS = 4
REFERRALS = 24
KILL_AFTER = 10  # referrals sent before one instance of each service is killed
SPOKE, HUB = "sikao-hospital", "trang-hospital"
# What a hospital's messages do to a referral, in the order they are sent (one key: one
# partition); out of order, "received" after "accepted" would be refused.
LIFECYCLE = ("referral-requested", "referral-received", "referral-accepted")


def port(base: int) -> int:
    return suite_port(base + SHIFT)


@dataclass(frozen=True)
class InstancesStack(TestStack):
    def env(self) -> dict[str, str]:
        return {
            **super().env(),
            # The topics as an operator lays them out for several instances.
            "FT_KAFKA_TOPIC_PARTITIONS": str(PARTITIONS),
            # No re-routing of unanswered referrals while the test runs.
            "FT_REFERRAL_ACCEPT_WITHIN_MIN": "1440",
            # A second broker (and, run alone, the trace UI) starts beside the session's: on a
            # busy machine that takes longer than the scripts' default 90 s.
            "FT_KAFKA_START_TIMEOUT": "300",
            "FT_ZIPKIN_START_TIMEOUT": "300",
        }


STACK = InstancesStack(
    state_dir=ROOT / ".local-stack" / "instances",
    kafka_port=port(29092),
    kafka_controller_port=port(29093),
    kafka_hospital_port=port(29094),
    postgres_port=port(25432),
    quick_kafka_start=True,
    # The session's trace UI (as the chaos run's stack): nothing here reads traces, and a
    # second Zipkin's start would compete with the broker's and six services' on two cores.
)
WEBHOOK_PORT = port(18069)
FIRST = {"referral": port(18061), "telemedicine": port(18062), "notifier": port(18063)}
SECOND = {"referral": port(18066), "telemedicine": port(18067), "notifier": port(18068)}


async def _script(*args: str) -> None:
    await asyncio.to_thread(STACK.run, *args)


@pytest.fixture
async def two_of_each(
    tmp_path: Path,
) -> AsyncIterator[tuple[ServiceProcesses, ServiceProcesses, WebhookReceiver]]:
    """Two instances of each service on this test's stack, and the hub's webhook they page."""
    await _script("bash", "deploy/local/stack.sh", "up")
    try:
        # Migrations, topics (of PARTITIONS) and the demo directory (tests/stack_setup.py).
        await _script(STACK.env()["FT_PYTHON"], "-m", "tests.stack_setup")
        pairs = []
        for name, ports in (("first", FIRST), ("second", SECOND)):
            (tmp_path / name).mkdir()
            processes = ServiceProcesses(
                STACK, tmp_path / name, ports=ports, webhook_port=WEBHOOK_PORT
            )
            # Alerts unanswered for an hour only: no repeated pages to muddle the count.
            calm = json.loads(json.dumps(CONTACTS))
            calm["escalation"]["ack_within_s"] = 3600
            processes.contacts_file.write_text(json.dumps(calm), encoding="utf-8")
            pairs.append(processes)
        first, second = pairs
        webhook = WebhookReceiver()
        server, task = await serve_webhook(webhook, WEBHOOK_PORT)
        try:
            for processes in pairs:
                for name in FIRST:
                    processes.spawn(name)
            # Six services starting at once on two cores: give them time.
            for processes in pairs:
                for name in FIRST:
                    await processes.wait_healthy(name, timeout=300)
            yield first, second, webhook
        finally:
            first.stop_all()
            second.stop_all()
            server.should_exit = True
            await task
    finally:
        with contextlib.suppress(RuntimeError):
            await _script("bash", "deploy/local/stack.sh", "down")


async def holders(topic: Topic, service: str) -> list[set[int]]:
    """The partitions of ``topic`` each member of the service's group holds (members holding
    none left out), as the group coordinator assigned them."""
    admin = AIOKafkaAdminClient(bootstrap_servers=STACK.bootstrap_servers)
    await admin.start()
    try:
        (response,) = await admin.describe_consumer_groups([consumer_group(service)])
    finally:
        await admin.close()
    (group,) = response.to_object()["groups"]
    held = []
    for member in group["members"]:
        if not member["member_assignment"]:
            continue  # joining: not assigned yet
        assignment = ConsumerProtocolMemberAssignment.decode(member["member_assignment"])
        partitions = {p for name, ps in assignment.assignment if name == topic.name for p in ps}
        if partitions:
            held.append(partitions)
    return held


async def split_between(count: int) -> bool:
    """Every topic a service reads is held by ``count`` members, together all of it."""
    for service, topics in TOPICS_READ.items():
        for topic in topics:
            held = await holders(topic, service)
            if len(held) != count or set().union(*held) != set(range(PARTITIONS)):
                return False
    return True


class HospitalSystems:
    """The spoke and the hub, on the network's shared inbound topic (keyed by referral)."""

    def __init__(self) -> None:
        self.producer = AIOKafkaProducer(
            bootstrap_servers=STACK.bootstrap_servers, enable_idempotence=True
        )
        self.sent: dict[str, list[str]] = defaultdict(list)  # referral -> message ids, in order
        self.teleconsult: dict[str, bool] = {}

    async def send_referral(self, teleconsult: bool) -> None:
        bundle, referral_id, message_id = referral_bundle(teleconsult=teleconsult)
        self.teleconsult[referral_id] = teleconsult
        messages = [(bundle, message_id)]
        for event, status in (("referral-received", "received"), ("referral-accepted", "accepted")):
            messages.append(
                hospital_message(
                    event, sender=HUB, receiver=SPOKE, referral_id=referral_id, status=status
                )
            )
        for message, message_id in messages:
            await self.producer.send_and_wait(
                HOSPITAL_INBOUND.name, json.dumps(message).encode(), key=referral_id.encode()
            )
            self.sent[referral_id].append(message_id)


async def answers(message_ids: set[str]) -> Counter[tuple[str, str]]:
    """(message id, response code) of the answers on the two hospitals' response topics, read
    until every message has one (or a minute has passed)."""
    consumer = AIOKafkaConsumer(
        hospital_responses(SPOKE).name,
        hospital_responses(HUB).name,
        bootstrap_servers=STACK.bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: Counter[tuple[str, str]] = Counter()
    deadline = time.monotonic() + 60
    try:
        while {m for m, _ in found} != message_ids and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                for record in records:
                    response = json.loads(record.value)["entry"][0]["resource"]["response"]
                    if response["identifier"] in message_ids:
                        found[response["identifier"], response["code"]] += 1
        return found
    finally:
        await consumer.stop()


async def test_two_instances_of_each_service_lose_one_mid_stream_and_keep_order_and_exactly_once(
    two_of_each: tuple[ServiceProcesses, ServiceProcesses, WebhookReceiver],
) -> None:
    first, _, webhook = two_of_each
    # Both instances of each service hold part of every topic it reads.
    await eventually(lambda: split_between(2), timeout=120, what="partitions split in two")
    hospitals = HospitalSystems()
    await hospitals.producer.start()
    try:
        for number in range(REFERRALS):
            if number == KILL_AFTER:
                for name in FIRST:  # SIGKILL: no leaving the group, no offset commit
                    first.kill(name)
            await hospitals.send_referral(teleconsult=number % 2 == 0)
            await asyncio.sleep(0.3)
        # The survivors hold every partition once the coordinator has given up on the dead.
        await eventually(lambda: split_between(1), timeout=120, what="the survivors took over")
        pool = await asyncpg.create_pool(STACK.database_url, min_size=1, max_size=2)
        try:
            quiet, _ = await wait_until_quiet(pool, STACK.bootstrap_servers, timeout_s=240)
            assert quiet.reached, quiet
            findings = (await audit(pool, hospitals.teleconsult, webhook)).as_dict()
            timeline = await pool.fetch(
                """SELECT referral_id, event_code FROM referral.timeline_entry
                   WHERE referral_id = ANY($1) AND event_code = ANY($2) ORDER BY id""",
                list(hospitals.sent),
                list(LIFECYCLE),
            )
            statuses = {
                row["id"]: row["status"]
                for row in await pool.fetch(
                    "SELECT id, status FROM referral.referral WHERE id = ANY($1)",
                    list(hospitals.sent),
                )
            }
            webhook_deliveries = {
                row["id"]
                for row in await pool.fetch(
                    """SELECT id FROM notifier.delivery WHERE referral_id = ANY($1)
                       AND channel = 'webhook' AND status = 'sent'""",
                    list(hospitals.sent),
                )
            }
        finally:
            await pool.close()
    finally:
        await hospitals.producer.stop()

    print(json.dumps(findings, indent=2))  # shown with -s or on failure
    # Every referral: each effect once (its Task, consult, deliveries, timeline entries).
    assert findings["effects_checked"]["task"] == REFERRALS
    assert (findings["lost_total"], findings["duplicated_total"]) == (0, 0), findings
    # Its lifecycle applied in the order sent, once each, ending accepted.
    order: dict[str, list[str]] = defaultdict(list)
    for row in timeline:
        order[row["referral_id"]].append(row["event_code"])
    assert {r: tuple(events) for r, events in order.items()} == dict.fromkeys(
        hospitals.sent, LIFECYCLE
    )
    assert statuses == dict.fromkeys(hospitals.sent, "accepted")
    # Every message answered, and only ever "ok".
    sent_ids = {m for ids in hospitals.sent.values() for m in ids}
    answered = await answers(sent_ids)
    assert {m for m, _ in answered} == sent_ids
    assert {code for _, code in answered} == {"ok"}
    # Each page reached the hub's webhook under its delivery's key: none lost, none sent twice
    # as two deliveries (a repeat under the same key, after a crash mid-send, is the receiver's
    # to drop).
    keys = {n.idempotency_key for n in webhook.received if n.body["referral"] in hospitals.sent}
    assert keys == webhook_deliveries
    assert len(webhook_deliveries) >= REFERRALS  # at least the stroke team's page each
