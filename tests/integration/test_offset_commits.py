"""Offsets are committed for many records at once, and never for a record still being handled:
on the real broker, a service's consumer (built as the runtime builds it) commits once per
interval, not once per record (issue 14 counted 27 offset-commit records per referral)."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka import KafkaBroker

from shared.db.pool import Connection, create_pool
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage
from shared.messaging.broker import consumer_group, create_broker
from shared.messaging.consumer import FhirMessageConsumer
from shared.messaging.guard import ConsumerGuard
from shared.messaging.progress import PartitionProgress
from shared.messaging.service_consumer import read_alone
from shared.messaging.topics import Topic
from shared.runtime import commit_handled
from shared.settings import PlatformSettings
from tests.support import TestStack, eventually, hospital_message

pytestmark = pytest.mark.integration

SERVICE = "itest-commits"
COMMIT_INTERVAL_S = 1.0
RECORDS = 30


@dataclass
class _Consumer:
    handled: list[str] = field(default_factory=list)
    commits: int = 0
    hold: asyncio.Event = field(default_factory=asyncio.Event)
    held_id: str = ""


def _message() -> tuple[bytes, str]:
    bundle, message_id = hospital_message(
        "referral-requested",
        sender="sikao-hospital",
        receiver="trang-hospital",
        referral_id=f"ref-{secrets.token_hex(4)}",
        status="requested",
    )
    return json.dumps(bundle).encode(), message_id


@pytest.fixture(scope="module")
async def consumer(
    stack: TestStack, scratch_schema: str, one_partition_topic: Topic
) -> AsyncIterator[_Consumer]:
    state = _Consumer()
    state.hold.set()
    pool = await create_pool(stack.database_url, schema=scratch_schema, max_size=2)
    guard = ConsumerGuard(
        group=consumer_group(SERVICE),
        max_attempts=3,
        retry_backoff_s=0.1,
        progress=PartitionProgress(stall_after_s=30),
    )
    broker: KafkaBroker = create_broker(
        PlatformSettings(kafka_bootstrap_servers=stack.bootstrap_servers),
        service_name=SERVICE,
        guard=guard,
    )
    guard.bind(broker)

    async def record(_: Connection, message: FhirMessage) -> None:
        if message.message_id == state.held_id:
            await state.hold.wait()
        state.handled.append(message.message_id)

    reader = read_alone(
        FhirMessageConsumer(
            broker=broker,
            pool=pool,
            topic=one_partition_topic,
            service_name=SERVICE,
            handlers={EventCode.REFERRAL_REQUESTED: record},
        ),
        fetch_max_wait_ms=100,
        commit_interval_s=COMMIT_INTERVAL_S,
    )
    commit = AIOKafkaConsumer.commit

    async def counting_commit(kafka: AIOKafkaConsumer, *args: Any, **kwargs: Any) -> None:
        if kafka._group_id == consumer_group(SERVICE):
            state.commits += 1
        await commit(kafka, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(AIOKafkaConsumer, "commit", counting_commit)
        await broker.start()
        yield state
        await commit_handled(reader)  # as a service's shutdown: no commit left planned
        await broker.stop()
    await pool.close()


@pytest.fixture(scope="module")
async def producer(stack: TestStack) -> AsyncIterator[AIOKafkaProducer]:
    kafka = AIOKafkaProducer(bootstrap_servers=stack.bootstrap_servers)
    await kafka.start()
    yield kafka
    await kafka.stop()


async def _committed(stack: TestStack, topic: Topic) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.bootstrap_servers)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(consumer_group(SERVICE))
    finally:
        await admin.close()
    committed = offsets.get(TopicPartition(topic.name, 0))
    return int(committed.offset) if committed is not None else 0


async def test_records_handled_together_are_committed_in_a_few_requests_not_one_each(
    stack: TestStack, consumer: _Consumer, producer: AIOKafkaProducer, one_partition_topic: Topic
) -> None:
    messages = [_message() for _ in range(RECORDS)]
    commits_before = consumer.commits
    started = time.monotonic()
    for body, _ in messages:
        await producer.send(one_partition_topic.name, body, key=b"k")
    await producer.flush()

    async def all_handled() -> bool:
        return all(message_id in consumer.handled for _, message_id in messages)

    await eventually(all_handled, timeout=60, what=f"{RECORDS} records handled")
    handling_s = time.monotonic() - started

    async def all_committed() -> bool:
        return await _committed(stack, one_partition_topic) >= RECORDS

    await eventually(all_committed, timeout=30, what="the handled records' offsets committed")
    # One request per interval while records came, and the last one after them: a count, with
    # the time the handling took (on a loaded machine) allowed for.
    assert consumer.commits - commits_before <= 2 + handling_s / COMMIT_INTERVAL_S
    assert consumer.commits - commits_before < RECORDS / 3


async def test_a_record_still_being_handled_is_not_committed(
    stack: TestStack, consumer: _Consumer, producer: AIOKafkaProducer, one_partition_topic: Topic
) -> None:
    before, held = _message(), _message()
    consumer.held_id = held[1]
    consumer.hold.clear()
    try:
        sent = await producer.send_and_wait(one_partition_topic.name, before[0], key=b"k")
        first: int = sent.offset

        async def before_handled() -> bool:
            return before[1] in consumer.handled

        # Records fetched together are applied in one transaction (ServiceConsumer): sent
        # before the first was handled, the held one could share its fetch and hold it too.
        await eventually(before_handled, timeout=30, what="the record before handled")
        await producer.send_and_wait(one_partition_topic.name, held[0], key=b"k")

        async def first_committed() -> bool:
            return await _committed(stack, one_partition_topic) > first

        await eventually(first_committed, timeout=30, what="the record before committed")
        await asyncio.sleep(3 * COMMIT_INTERVAL_S)  # intervals pass while the next is handled
        assert await _committed(stack, one_partition_topic) == first + 1
    finally:
        consumer.hold.set()

    async def held_committed() -> bool:
        return await _committed(stack, one_partition_topic) == first + 2

    await eventually(held_committed, timeout=30, what="the held record committed once handled")
    assert held[1] in consumer.handled
