"""The metrics sampler's look at Kafka (consumer lag, dead-letter depth) every 10 s in every
service asks the broker only what it needs: one metadata request (every topic, with the brokers)
instead of three, and no coordinator lookup once a group's coordinator is known. At rest these
were a third of the requests the three services send the broker (the benchmark's broker request
log: 3.8 of 11.6 a second), and each metadata request lists every hospital's topics."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.conn import AIOKafkaConnection
from opentelemetry.sdk.metrics import MeterProvider

from shared.metrics.kafka_offsets import GROUP_PREFIX, KafkaOffsets
from tests.support import TestStack

pytestmark = pytest.mark.integration

CLIENT_ID = f"itest-offsets-{secrets.token_hex(3)}"


class _Requests:
    """Requests sent by the sampler's clients (its client id), by kind: what the broker sees."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()

    def note(self, connection: AIOKafkaConnection, request: Any) -> None:
        if getattr(connection, "_client_id", "").startswith(CLIENT_ID):
            self.sent[type(request).__name__.split("_v")[0]] += 1


@pytest.fixture
def requests(monkeypatch: pytest.MonkeyPatch) -> _Requests:
    counted = _Requests()
    send = AIOKafkaConnection.send

    def counting_send(self: AIOKafkaConnection, request: Any, *args: Any, **kwargs: Any) -> Any:
        counted.note(self, request)
        return send(self, request, *args, **kwargs)

    monkeypatch.setattr(AIOKafkaConnection, "send", counting_send)
    return counted


@pytest.fixture(scope="module")
async def lagging_group(stack: TestStack) -> AsyncIterator[tuple[str, str]]:
    """A group of the network's (``fasttrack-``) 2 records behind on a topic of its own, and a
    dead-letter topic holding 3 records. (The broker drops a deleted topic's committed offsets;
    aiokafka cannot delete a group.)"""
    topic = f"fasttrack.itest.lag.{secrets.token_hex(4)}"
    dead_letters = f"{topic}.dlq"
    group = f"{GROUP_PREFIX}itest-lag-{secrets.token_hex(4)}"
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.bootstrap_servers)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 1, 1), NewTopic(dead_letters, 1, 1)])
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap_servers)
    await producer.start()
    for n in range(5):
        await producer.send_and_wait(topic, f"record {n}".encode())
    for n in range(3):
        await producer.send_and_wait(dead_letters, f"dead letter {n}".encode())
    await producer.stop()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=stack.bootstrap_servers, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    consumer.assign([TopicPartition(topic, 0)])
    await consumer.commit({TopicPartition(topic, 0): 3})  # 3 of 5 handled
    await consumer.stop()
    yield topic, group
    await admin.delete_topics([topic, dead_letters])
    await admin.close()


async def test_a_sample_asks_for_the_metadata_once_and_finds_no_coordinator_it_knows(
    stack: TestStack, lagging_group: tuple[str, str], requests: _Requests
) -> None:
    topic, group = lagging_group
    offsets = KafkaOffsets(
        bootstrap_servers=stack.bootstrap_servers,
        meter=MeterProvider().get_meter("test"),
        client_id=CLIENT_ID,
    )
    try:
        await offsets.sample()  # connects, finds the groups' coordinators
        requests.sent.clear()
        await offsets.sample()
    finally:
        await offsets.close()

    # The same readings as before: the group's lag and the dead letters held.
    lag = {
        labels["partition"]: value
        for labels, value in offsets.lag.readings()
        if labels["group"] == group and labels["topic"] == topic
    }
    assert lag == {"0": 2.0}
    # Its committed offset, whose rate the dashboard shows as records handled per second.
    committed = {
        labels["partition"]: value
        for labels, value in offsets.committed.readings()
        if labels["group"] == group and labels["topic"] == topic
    }
    assert committed == {"0": 3.0}
    assert ({"topic": f"{topic}.dlq"}, 3.0) in offsets.dead_letters.readings()
    groups = {labels["group"] for labels, _ in offsets.lag.readings()}

    sent = requests.sent
    # Was 3: one for the brokers to list groups on, one for the topic names, one for the
    # dead-letter topics' partitions.
    assert sent["MetadataRequest"] == 1, sent
    # Was one per group and sample.
    assert sent["FindCoordinatorRequest"] == 0, sent
    assert sent["OffsetFetchRequest"] >= len(groups), sent  # one per group, some without lag
    assert sent["ListGroupsRequest"] == 1, sent  # one broker
    assert sent["OffsetRequest"] <= 2, sent  # the topics' ends, the dead letters' beginnings
