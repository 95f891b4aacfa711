"""An idle service's consumer asks the broker to hold its fetches for the idle fetch wait (5 s),
not 500 ms: at rest the three services' fetches, six a second, were most of the requests the
broker served. While records come the wait is short again, so a record read again after a
failure is not held up behind a long fetch (tests/integration/test_poison_messages.py)."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.conn import AIOKafkaConnection
from faststream.kafka import KafkaBroker

from shared.db.pool import Connection, create_pool
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage
from shared.messaging.broker import create_broker
from shared.messaging.consumer import FhirMessageConsumer
from shared.messaging.service_consumer import read_alone
from shared.messaging.topics import Topic
from shared.runtime import commit_handled
from shared.settings import PlatformSettings
from tests.support import TestStack, eventually, hospital_message

pytestmark = pytest.mark.integration

SERVICE = f"itest-idle-{secrets.token_hex(3)}"
SETTINGS = PlatformSettings()


@dataclass
class _Reader:
    handled: list[str] = field(default_factory=list)
    fetches: Counter[str] = field(default_factory=Counter)


@pytest.fixture(scope="module")
async def reader(
    stack: TestStack, scratch_schema: str, one_partition_topic: Topic
) -> AsyncIterator[_Reader]:
    state = _Reader()
    pool = await create_pool(stack.database_url, schema=scratch_schema, max_size=2)
    broker: KafkaBroker = create_broker(
        PlatformSettings(kafka_bootstrap_servers=stack.bootstrap_servers), service_name=SERVICE
    )

    async def record(_: Connection, message: FhirMessage) -> None:
        state.handled.append(message.message_id)

    # As the services' runtime builds it (shared/runtime.py), with their default settings.
    consumer = read_alone(
        FhirMessageConsumer(
            broker=broker,
            pool=pool,
            topic=one_partition_topic,
            service_name=SERVICE,
            handlers={EventCode.REFERRAL_REQUESTED: record},
        ),
        fetch_max_wait_ms=SETTINGS.consumer_fetch_max_wait_ms,
        idle_fetch_max_wait_ms=SETTINGS.consumer_idle_fetch_max_wait_ms,
    )
    send = AIOKafkaConnection.send

    def counting_send(connection: AIOKafkaConnection, request: Any, *args: Any, **kw: Any) -> Any:
        ours = getattr(connection, "_client_id", "") == f"fasttrack-{SERVICE}"
        if ours and type(request).__name__.startswith("FetchRequest"):
            state.fetches["fetch"] += 1
        return send(connection, request, *args, **kw)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(AIOKafkaConnection, "send", counting_send)
        await broker.start()

        async def fetching() -> bool:
            return state.fetches["fetch"] > 0

        await eventually(fetching, timeout=30, what="the consumer's first fetch")
        yield state
        await commit_handled(consumer)
        await broker.stop()
    await pool.close()


async def test_an_idle_consumer_fetches_every_few_seconds_and_a_busy_one_as_before(
    reader: _Reader, stack: TestStack, one_partition_topic: Topic
) -> None:
    reader.fetches.clear()
    await asyncio.sleep(10)
    # Was 20 (one every 500 ms); now 2 or 3 (one every 5 s).
    assert reader.fetches["fetch"] <= 3, reader.fetches

    bundle, message_id = hospital_message(
        "referral-requested",
        sender="sikao-hospital",
        receiver="trang-hospital",
        referral_id=f"ref-{secrets.token_hex(4)}",
        status="requested",
    )
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(one_partition_topic.name, json.dumps(bundle).encode())
    finally:
        await producer.stop()

    async def handled() -> bool:
        return message_id in reader.handled

    # The record returns the idle fetch in flight: no waiting out its 5 s.
    await eventually(handled, timeout=4, what="the record sent to the idle consumer")
    # Records came: the next fetches ask for the short wait again (a seek does not wait 5 s).
    reader.fetches.clear()
    await asyncio.sleep(3)
    assert reader.fetches["fetch"] >= 4, reader.fetches
