"""Records fetched together are applied in one transaction, on the real broker and database: far
fewer transactions than records, each referral's records in order, each message applied once
(a repeat finds the inbox), and a record that is refused or always fails is dead-lettered alone
while the records fetched with it are applied once. A record that arrives while another of its
partition is handled, or while the one before it is on its way to the handler (a loaded
machine), is not held back for the consumer's fetch wait."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream import BaseMiddleware
from faststream.kafka import KafkaBroker

from shared.db.pool import Connection, create_pool
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage
from shared.fhir.models import Task
from shared.messaging.broker import consumer_group, create_broker
from shared.messaging.consumer import FhirMessageConsumer
from shared.messaging.guard import ConsumerGuard
from shared.messaging.message_handlers import PermanentMessageError
from shared.messaging.progress import PartitionProgress
from shared.messaging.service_consumer import read_alone
from shared.messaging.topics import Topic
from shared.runtime import commit_handled
from shared.settings import PlatformSettings
from tests.support import TestStack, eventually, hospital_message

pytestmark = pytest.mark.integration

KEYS = 8
PER_KEY = 6
# Longer than a test waits for a record: one held back for the fetch wait would fail it.
FETCH_WAIT_MS = 5_000


@dataclass
class _Service:
    """A service's consumer, built as the runtime builds it, on a fresh topic of 3 partitions."""

    name: str
    topic: Topic
    table: str
    broker: KafkaBroker
    database: asyncpg.Pool
    hold: asyncio.Event = field(default_factory=asyncio.Event)
    holding: asyncio.Event = field(default_factory=asyncio.Event)
    held_ids: set[str] = field(default_factory=set)
    # A record of one of these keys is held before the handler (in the middlewares), once.
    slow_keys: set[bytes] = field(default_factory=set)
    on_its_way: asyncio.Event = field(default_factory=asyncio.Event)
    let_through: asyncio.Event = field(default_factory=asyncio.Event)


def _slow_on_its_way(state: _Service) -> type[BaseMiddleware]:
    """A middleware that holds a record of ``state.slow_keys`` before it reaches the handler, as
    the consumer's middlewares and parsing take long on a loaded machine."""

    class SlowOnItsWay(BaseMiddleware):
        async def on_receive(self) -> None:
            key = getattr(self.msg, "key", None)
            if key in state.slow_keys:
                state.slow_keys.discard(key)
                state.on_its_way.set()
                await state.let_through.wait()

    return SlowOnItsWay


def _message(key: str, *, outcome: str | None = None) -> tuple[bytes, str]:
    bundle, message_id = hospital_message(
        "referral-requested",
        sender="sikao-hospital",
        receiver="trang-hospital",
        referral_id=key,
        status="requested",
        outcome=outcome,
    )
    return json.dumps(bundle).encode(), message_id


@pytest.fixture
async def service(stack: TestStack, scratch_schema: str) -> AsyncIterator[_Service]:
    name = f"itest-batch-{secrets.token_hex(3)}"
    topic = Topic(f"fasttrack.itest.{secrets.token_hex(4)}", "batch test", partitions=3)
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.bootstrap_servers)
    await admin.start()
    await admin.create_topics([NewTopic(topic.name, 3, 1), NewTopic(topic.dead_letter, 1, 1)])
    database = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=2)
    table = f"{scratch_schema}.applied_{secrets.token_hex(3)}"
    await database.execute(
        f"CREATE TABLE {table} (n bigserial PRIMARY KEY, message_id text NOT NULL, "
        "referral text NOT NULL, transaction_id bigint NOT NULL)"
    )
    pool = await create_pool(stack.database_url, schema=scratch_schema, max_size=2)
    guard = ConsumerGuard(
        group=consumer_group(name),
        max_attempts=3,
        retry_backoff_s=0.1,
        progress=PartitionProgress(stall_after_s=30),
    )
    broker = create_broker(
        PlatformSettings(kafka_bootstrap_servers=stack.bootstrap_servers),
        service_name=name,
        guard=guard,
    )
    guard.bind(broker)
    state = _Service(name, topic, table, broker, database)
    state.hold.set()
    state.let_through.set()
    broker.add_middleware(_slow_on_its_way(state))

    async def apply(connection: Connection, message: FhirMessage) -> None:
        task = message.focus_resource(Task)
        assert task is not None
        outcome = next((output.valueString for output in task.output or ()), None)
        if outcome == "refuse":
            raise PermanentMessageError("refused by the test")
        if outcome == "fail":
            raise ValueError("a bug in the handler")
        if message.message_id in state.held_ids:
            state.holding.set()
            await state.hold.wait()
        await connection.execute(
            # The table's name is the test's own.
            f"INSERT INTO {table} (message_id, referral, transaction_id) "  # noqa: S608
            "VALUES ($1, $2, txid_current())",
            message.message_id,
            str(task.id),
        )

    reader = read_alone(
        FhirMessageConsumer(
            broker=broker,
            pool=pool,
            topic=topic,
            service_name=name,
            handlers={EventCode.REFERRAL_REQUESTED: apply},
        ),
        fetch_max_wait_ms=FETCH_WAIT_MS,
        commit_interval_s=1.0,
    )
    yield state
    state.hold.set()
    state.let_through.set()
    await commit_handled(reader)  # as a service's shutdown: no commit left planned
    await broker.stop()
    await pool.close()
    await database.execute(f"DROP TABLE {table}")
    await database.close()
    await admin.delete_topics([topic.name, topic.dead_letter])
    await admin.close()


@pytest.fixture
async def producer(stack: TestStack) -> AsyncIterator[AIOKafkaProducer]:
    kafka = AIOKafkaProducer(bootstrap_servers=stack.bootstrap_servers)
    await kafka.start()
    yield kafka
    await kafka.stop()


async def _applied(service: _Service) -> list[asyncpg.Record]:
    return list(
        await service.database.fetch(
            f"SELECT message_id, referral, transaction_id FROM {service.table} ORDER BY n"  # noqa: S608
        )
    )


async def _dead_letters(stack: TestStack, topic: Topic, count: int) -> list[bytes]:
    reader = AIOKafkaConsumer(
        topic.dead_letter, bootstrap_servers=stack.bootstrap_servers, auto_offset_reset="earliest"
    )
    await reader.start()
    try:
        found: list[bytes] = []
        deadline = time.monotonic() + 60
        while len(found) < count and time.monotonic() < deadline:
            for records in (await reader.getmany(timeout_ms=1000)).values():
                found.extend(record.value or b"" for record in records)
        await asyncio.sleep(2)  # and no more than that
        for records in (await reader.getmany(timeout_ms=1000)).values():
            found.extend(record.value or b"" for record in records)
        return found
    finally:
        await reader.stop()


async def test_records_fetched_together_are_applied_in_few_transactions_in_order_once(
    service: _Service, producer: AIOKafkaProducer
) -> None:
    keys = [f"ref-{secrets.token_hex(4)}" for _ in range(KEYS)]
    sent: dict[str, list[str]] = {key: [] for key in keys}
    for _ in range(PER_KEY):
        for key in keys:
            body, message_id = _message(key)
            await producer.send(service.topic.name, body, key=key.encode())
            sent[key].append(message_id)
            if len(sent[key]) == 2:  # a redelivery: the same record again
                await producer.send(service.topic.name, body, key=key.encode())
    await producer.flush()
    records = KEYS * PER_KEY
    await service.broker.start()

    async def all_applied() -> bool:
        return len(await _applied(service)) >= records

    await eventually(all_applied, timeout=90, what=f"{records} records applied")
    await asyncio.sleep(1)  # nothing applied twice after
    applied = await _applied(service)
    assert len(applied) == records
    assert len({row["message_id"] for row in applied}) == records
    for key in keys:
        assert [row["message_id"] for row in applied if row["referral"] == key] == sent[key]
    transactions = {row["transaction_id"] for row in applied}
    # Ready at once: a transaction per fetched batch (at most 50), not one per record.
    assert len(transactions) <= records // 4, len(transactions)


async def test_a_refused_and_a_failing_record_are_dead_lettered_alone(
    stack: TestStack, service: _Service, producer: AIOKafkaProducer
) -> None:
    keys = [f"ref-{secrets.token_hex(4)}" for _ in range(KEYS)]
    sent: dict[str, list[str]] = {key: [] for key in keys}
    poison = {keys[2]: "refuse", keys[5]: "fail"}
    for position in range(PER_KEY):
        for key in keys:
            outcome = poison.get(key) if position == 3 else None
            body, message_id = _message(key, outcome=outcome)
            await producer.send(service.topic.name, body, key=key.encode())
            if outcome is None:
                sent[key].append(message_id)
    await producer.flush()
    records = KEYS * PER_KEY - len(poison)
    await service.broker.start()

    async def all_applied() -> bool:
        return len(await _applied(service)) >= records

    await eventually(all_applied, timeout=90, what=f"{records} records applied")
    applied = await _applied(service)
    assert len(applied) == records
    for key in keys:
        assert [row["message_id"] for row in applied if row["referral"] == key] == sent[key]
    dead = await _dead_letters(stack, service.topic, len(poison))
    assert sorted(b'"refuse"' in body for body in dead) == [False, True]
    assert len(dead) == len(poison)


async def test_a_record_arriving_while_its_partition_is_handled_is_not_held_for_the_fetch_wait(
    service: _Service, producer: AIOKafkaProducer
) -> None:
    key = f"ref-{secrets.token_hex(4)}"
    first, first_id = _message(key)
    second, second_id = _message(key)
    service.held_ids.add(first_id)
    service.hold.clear()
    await service.broker.start()
    await producer.send_and_wait(service.topic.name, first, key=key.encode())
    await asyncio.wait_for(service.holding.wait(), timeout=60)
    # aiokafka fetches a partition whose records are not all taken again after 100 ms only
    # without it, in a fetch the broker holds for the whole fetch wait when nothing else comes.
    await asyncio.sleep(0.5)
    await producer.send_and_wait(service.topic.name, second, key=key.encode())
    sent = time.monotonic()
    service.hold.set()

    async def second_applied() -> bool:
        return second_id in {row["message_id"] for row in await _applied(service)}

    await eventually(second_applied, timeout=30, what="the second record applied")
    assert time.monotonic() - sent < FETCH_WAIT_MS / 1000 / 2


async def test_a_record_arriving_while_the_one_before_it_is_on_its_way_to_the_handler_is_not_held(
    service: _Service, producer: AIOKafkaProducer
) -> None:
    key = f"ref-{secrets.token_hex(4)}"
    first, _ = _message(key)
    second, second_id = _message(key)
    service.slow_keys.add(key.encode())
    service.let_through.clear()
    await service.broker.start()
    await producer.send_and_wait(service.topic.name, first, key=key.encode())
    await asyncio.wait_for(service.on_its_way.wait(), timeout=60)
    # The first record was handed over (its partition's records all read, none taken by the
    # consumer yet) and is still in the middlewares past aiokafka's 100 ms prefetch backoff,
    # after which aiokafka fetches the other partitions without its own.
    await asyncio.sleep(0.5)
    await producer.send_and_wait(service.topic.name, second, key=key.encode())
    sent = time.monotonic()
    service.let_through.set()

    async def second_applied() -> bool:
        return second_id in {row["message_id"] for row in await _applied(service)}

    await eventually(second_applied, timeout=30, what="the second record applied")
    assert time.monotonic() - sent < FETCH_WAIT_MS / 1000 / 2
