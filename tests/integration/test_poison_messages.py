"""No record stops its partition: each kind of poison, on the real broker, is dead-lettered with
its reason and the valid message behind it is processed within seconds."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from faststream import BaseMiddleware
from faststream.kafka import KafkaBroker

from shared.db.pool import Connection, create_pool
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage
from shared.fhir.models import Task
from shared.messaging.broker import consumer_group, create_broker
from shared.messaging.consumer import FhirMessageConsumer
from shared.messaging.guard import ConsumerGuard
from shared.messaging.headers import DEAD_LETTER_REASON
from shared.messaging.limits import MAX_RECORD_BYTES
from shared.messaging.progress import PartitionProgress
from shared.messaging.service_consumer import read_alone
from shared.messaging.topics import Topic
from shared.settings import PlatformSettings
from tests.support import TestStack, eventually, hospital_message

pytestmark = pytest.mark.integration

# A header that makes the test's own middleware fail, as a broken middleware would.
EXPLODE = "x-test-explode"
KEY = b"one-partition-for-all"


def _valid(*, always_fails: bool = False) -> tuple[bytes, str]:
    bundle, message_id = hospital_message(
        "referral-requested",
        sender="sikao-hospital",
        receiver="trang-hospital",
        referral_id=f"ref-{secrets.token_hex(4)}",
        status="requested",
        outcome="fail" if always_fails else None,
    )
    return json.dumps(bundle).encode(), message_id


# (kind, body, headers, what the dead letter's reason says)
POISON: list[tuple[str, bytes, list[tuple[str, bytes]], str]] = [
    ("JSON nested 10,000 levels deep", b"[" * 10_000 + b"]" * 10_000, [], "nests deeper"),
    (
        "an integer of 5,000 digits",
        b'{"resourceType": "Bundle", "type": "message", "total": ' + b"9" * 5_000 + b"}",
        [],
        "number is written with more than",
    ),
    (
        "a JSON content-type on a body that is not JSON",
        b"{not json",
        [("content-type", b"application/json")],
        "not valid JSON",
    ),
    ("a header value that is not UTF-8", b"\xff\xfe", [("x-origin", b"\xff\xfe")], "JSON"),
    ("a record over the size limit", b" " * (MAX_RECORD_BYTES + 1), [], "the limit is"),
    ("a record the handler always fails on", _valid(always_fails=True)[0], [], "failed 3 times"),
    ("a middleware that fails", _valid()[0], [(EXPLODE, b"1")], "failed 3 times"),
]


class _ExplodingMiddleware(BaseMiddleware):
    async def on_receive(self) -> None:
        if any(name == EXPLODE for name, _ in getattr(self.msg, "headers", ()) or ()):
            raise RuntimeError("middleware failure")


@dataclass
class _Consumed:
    message_ids: list[str] = field(default_factory=list)
    dead_letters: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)


@pytest.fixture(scope="module")
def topic(one_partition_topic: Topic) -> Topic:
    return one_partition_topic


@pytest.fixture(scope="module")
async def consumed(stack: TestStack, scratch_schema: str, topic: Topic) -> AsyncIterator[_Consumed]:
    """A service's consumer, built as the runtime builds it, on the poison topic."""
    seen = _Consumed()
    pool = await create_pool(stack.database_url, schema=scratch_schema, max_size=2)
    guard = ConsumerGuard(
        group=consumer_group("itest-poison"),
        max_attempts=3,
        retry_backoff_s=0.1,
        progress=PartitionProgress(stall_after_s=30),
    )
    settings = PlatformSettings(kafka_bootstrap_servers=stack.bootstrap_servers)
    broker: KafkaBroker = create_broker(settings, service_name="itest-poison", guard=guard)
    broker.add_middleware(_ExplodingMiddleware)
    guard.bind(broker)

    async def record(_: Connection, message: FhirMessage) -> None:
        task = message.focus_resource(Task)
        if task is not None and any(output.valueString == "fail" for output in task.output or ()):
            raise ValueError("a bug in the handler")
        seen.message_ids.append(message.message_id)

    read_alone(
        FhirMessageConsumer(
            broker=broker,
            pool=pool,
            topic=topic,
            service_name="itest-poison",
            handlers={EventCode.REFERRAL_REQUESTED: record},
        ),
        # As the services wait: long while idle (the poison comes after an idle spell), short
        # while records come, so a record read again is not held behind a long fetch.
        idle_fetch_max_wait_ms=PlatformSettings().consumer_idle_fetch_max_wait_ms,
    )
    dead_letters = AIOKafkaConsumer(
        topic.dead_letter,
        bootstrap_servers=stack.bootstrap_servers,
        auto_offset_reset="earliest",
    )
    await dead_letters.start()

    async def collect() -> None:
        async for dead in dead_letters:
            headers = {name: value.decode(errors="replace") for name, value in dead.headers}
            seen.dead_letters.append((dead.value or b"", headers))

    collecting = asyncio.create_task(collect())
    await broker.start()
    yield seen
    collecting.cancel()
    await broker.stop()
    await dead_letters.stop()
    await pool.close()


@pytest.fixture(scope="module")
async def producer(stack: TestStack) -> AsyncIterator[AIOKafkaProducer]:
    kafka = AIOKafkaProducer(bootstrap_servers=stack.bootstrap_servers, max_request_size=2**21)
    await kafka.start()
    yield kafka
    await kafka.stop()


@pytest.mark.parametrize(
    ("kind", "body", "headers", "reason"), POISON, ids=[kind for kind, *_ in POISON]
)
async def test_a_poison_record_is_dead_lettered_and_the_next_one_is_processed_in_seconds(
    consumed: _Consumed,
    producer: AIOKafkaProducer,
    topic: Topic,
    kind: str,
    body: bytes,
    headers: list[tuple[str, bytes]],
    reason: str,
) -> None:
    valid, valid_id = _valid()
    sent_at = time.monotonic()
    poison = await producer.send_and_wait(topic.name, body, key=KEY, headers=headers)
    await producer.send_and_wait(topic.name, valid, key=KEY)

    async def processed() -> bool:
        return valid_id in consumed.message_ids

    await eventually(processed, timeout=20, what=f"the valid message behind {kind}")
    assert time.monotonic() - sent_at < 20

    source = f"{topic.name}/{poison.partition}/{poison.offset}"

    async def dead_lettered() -> list[dict[str, str]]:
        return [h for _, h in consumed.dead_letters if h.get("dead-letter-source") == source]

    [dead] = await eventually(dead_lettered, timeout=10, what=f"the dead letter of {kind}")
    assert reason in dead[DEAD_LETTER_REASON], dead[DEAD_LETTER_REASON]
