"""Records fetched together cost the database only what they apply, on the real broker and
database: another service's events on a shared topic (the relay's ``event-code`` header names an
event the consumer has no handler for) are skipped from their headers, their bodies not read and
no statement sent; a batch with one record to apply applies it as a record read alone is applied
(its one statement, no BEGIN and COMMIT around it). Telemedicine reads three records of each
referral and applies one. Every record is still applied once and its offset committed."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker

from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage, build_message, read_relayed_message
from shared.fhir.models import FHIR_VERSION
from shared.messaging import headers, record_reading
from shared.messaging.broker import consumer_group, create_broker
from shared.messaging.consumer import FhirMessageConsumer
from shared.messaging.inbox import (
    INBOX_OUTCOME,
    Claim,
    InboxEntry,
    inbox_claim,
    outcome_of,
)
from shared.messaging.service_consumer import ServiceConsumer, read_alone
from shared.messaging.topics import Topic
from shared.runtime import commit_handled
from shared.settings import PlatformSettings
from tests.support import TestStack, eventually
from tests.use_case_database import CountedPool

pytestmark = pytest.mark.integration

OTHERS = 9
# The handler's one statement: the inbox claim and nothing else.
_CLAIM_ALONE = f"WITH {inbox_claim(1)} SELECT {INBOX_OUTCOME}"


@dataclass
class _Reader:
    name: str
    topic: Topic
    counted: CountedPool
    broker: KafkaBroker
    reader: ServiceConsumer
    relayed_reads: list[int]


@pytest.fixture
async def reader(
    stack: TestStack, scratch_schema: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[_Reader]:
    name = f"itest-skip-{secrets.token_hex(3)}"
    topic = Topic(f"fasttrack.itest.{secrets.token_hex(4)}", "skip test", partitions=1)
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.bootstrap_servers)
    await admin.start()
    await admin.create_topics([NewTopic(topic.name, 1, 1), NewTopic(topic.dead_letter, 1, 1)])
    counted = CountedPool()
    pool = await counted.open(stack.database_url, scratch_schema)
    broker = create_broker(
        PlatformSettings(kafka_bootstrap_servers=stack.bootstrap_servers), service_name=name
    )
    relayed_reads: list[int] = []
    original = read_relayed_message

    def counting(payload: bytes) -> FhirMessage:
        relayed_reads.append(1)
        return original(payload)

    monkeypatch.setattr(record_reading, "read_relayed_message", counting)

    async def handler(connection: Connection, message: FhirMessage) -> None:
        raise AssertionError("applied by its one statement")

    async def in_one_statement(connection: Connection, entry: InboxEntry) -> Claim | None:
        row = await connection.fetchrow(_CLAIM_ALONE, *entry.parameters)
        assert row is not None
        return outcome_of(row, entry)

    service = read_alone(
        FhirMessageConsumer(
            broker=broker,
            pool=pool,
            topic=topic,
            service_name=name,
            handlers={EventCode.REFERRAL_REQUESTED: handler},
            in_one_statement={EventCode.REFERRAL_REQUESTED: in_one_statement},
        ),
        commit_interval_s=0.0,
    )
    yield _Reader(name, topic, counted, broker, service, relayed_reads)
    await commit_handled(service)
    await broker.stop()
    await pool.close()
    await admin.delete_topics([topic.name, topic.dead_letter])
    await admin.close()


async def _publish_relayed(stack: TestStack, topic: Topic, events: list[EventCode]) -> list[str]:
    """Records as the outbox relay writes them (its headers), one referral's; their message ids."""
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap_servers)
    await producer.start()
    referral = f"r-{secrets.token_hex(4)}"
    ids = []
    try:
        for sequence, event in enumerate(events, start=1):
            message = build_message(
                event=event,
                sender="Organization/network",
                destinations=["Organization/trang-hospital"],
                focus=[
                    {
                        "resourceType": "Task",
                        "id": referral,
                        "status": "requested",
                        "intent": "order",
                    }
                ],
                source_endpoint="urn:itest",
            )
            record_headers = {
                headers.MESSAGE_ID: message.message_id,
                headers.EVENT_CODE: event.value,
                headers.SEQUENCE: str(sequence),
                headers.PRODUCER: "referral",
                headers.FHIR_VERSION: FHIR_VERSION,
            }
            await producer.send(
                topic.name,
                message.to_json(),
                key=referral.encode(),
                headers=[(name, value.encode()) for name, value in record_headers.items()],
            )
            ids.append(message.message_id)
        await producer.flush()
    finally:
        await producer.stop()
    return ids


async def _all_committed(stack: TestStack, reader: _Reader, records: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.bootstrap_servers)
    await admin.start()
    try:

        async def committed() -> bool:
            offsets = await admin.list_consumer_group_offsets(consumer_group(reader.name))
            found = offsets.get(TopicPartition(reader.topic.name, 0))
            return found is not None and found.offset == records

        await eventually(committed, timeout=60, what=f"{records} records committed")
    finally:
        await admin.close()


async def test_one_record_to_apply_among_others_events_is_one_statement_and_one_read(
    stack: TestStack, reader: _Reader, scratch_schema: str
) -> None:
    # Fetched together: published before the consumer starts.
    others = [EventCode.CLINICAL_UPDATE] * OTHERS
    ids = await _publish_relayed(
        stack, reader.topic, [*others[:4], EventCode.REFERRAL_REQUESTED, *others[4:]]
    )
    await reader.broker.start()
    await _all_committed(stack, reader, OTHERS + 1)
    await asyncio.sleep(0.2)  # asyncpg notes a statement just after it
    sent = list(reader.counted.sent)
    async with reader.counted.pool.acquire() as connection:
        inbox = await connection.fetch(f"SELECT message_id FROM {scratch_schema}.inbox")  # noqa: S608
    assert [row["message_id"] for row in inbox] == [ids[4]]
    # Was BEGIN, the claim and COMMIT: 3.
    assert sent == [" ".join(_CLAIM_ALONE.split())[:80]]
    # Was 10: every record's Bundle read.
    assert len(reader.relayed_reads) == 1


async def test_records_of_others_events_only_cost_no_statement_and_no_read(
    stack: TestStack, reader: _Reader
) -> None:
    await _publish_relayed(stack, reader.topic, [EventCode.CLINICAL_UPDATE] * (OTHERS + 1))
    await reader.broker.start()
    await _all_committed(stack, reader, OTHERS + 1)
    await asyncio.sleep(0.2)
    # Was BEGIN and COMMIT, and 10 Bundles read.
    assert reader.counted.sent == []
    assert reader.relayed_reads == []
