"""Readiness names a partition that stopped moving: on the real broker, a record that meets an
outage on every attempt (retried, never dead-lettered) stalls its partition past the threshold."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from shared.db.pool import Connection, create_pool
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage
from shared.health import readiness
from shared.messaging.broker import consumer_group, create_broker
from shared.messaging.consumer import FhirMessageConsumer
from shared.messaging.guard import ConsumerGuard
from shared.messaging.progress import PartitionProgress
from shared.messaging.service_consumer import read_alone
from shared.messaging.topics import Topic
from shared.settings import PlatformSettings
from shared.startup import StartupState
from tests.support import TestStack, eventually, hospital_message

pytestmark = pytest.mark.integration

STALL_AFTER_S = 2.0


@pytest.fixture(scope="module")
def topic(one_partition_topic: Topic) -> Topic:
    return one_partition_topic


async def test_a_partition_whose_record_meets_an_outage_is_reported_stalled(
    stack: TestStack, scratch_schema: str, topic: Topic
) -> None:
    pool = await create_pool(stack.database_url, schema=scratch_schema, max_size=2)
    progress = PartitionProgress(stall_after_s=STALL_AFTER_S)
    guard = ConsumerGuard(
        group=consumer_group("itest-stall"), max_attempts=3, retry_backoff_s=0.2, progress=progress
    )
    broker: KafkaBroker = create_broker(
        PlatformSettings(kafka_bootstrap_servers=stack.bootstrap_servers),
        service_name="itest-stall",
        guard=guard,
    )
    guard.bind(broker)

    async def database_away(_: Connection, __: FhirMessage) -> None:
        raise ConnectionRefusedError("the database is away")

    read_alone(
        FhirMessageConsumer(
            broker=broker,
            pool=pool,
            topic=topic,
            service_name="itest-stall",
            handlers={EventCode.REFERRAL_REQUESTED: database_away},
        ),
    )
    state = StartupState(database="ok", kafka="ok", consumers="ok")
    await broker.start()
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap_servers)
    await producer.start()
    try:

        async def report() -> dict[str, Any]:
            return await readiness(
                name="itest", state=state, pool=pool, broker=broker, progress=progress
            )

        assert (await report())["consumers"]["status"] == "ok"
        bundle, _ = hospital_message(
            "referral-requested",
            sender="sikao-hospital",
            receiver="trang-hospital",
            referral_id=f"ref-{secrets.token_hex(4)}",
            status="requested",
        )
        sent = await producer.send_and_wait(topic.name, json.dumps(bundle).encode(), key=b"k")
        began = time.monotonic()

        async def stalled() -> dict[str, Any] | None:
            answer = await report()
            return answer if answer["consumers"]["status"] == "stalled" else None

        answer = await eventually(stalled, timeout=30, what="the partition reported stalled")
        assert time.monotonic() - began >= STALL_AFTER_S
        assert answer["status"] == "degraded"
        [partition] = answer["consumers"]["stalled"]
        assert (partition["topic"], partition["partition"], partition["offset"]) == (
            topic.name,
            sent.partition,
            sent.offset,
        )
    finally:
        await producer.stop()
        await broker.stop()
        await pool.close()
