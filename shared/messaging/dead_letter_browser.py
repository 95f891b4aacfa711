"""The dead-letter topics as an operator browses them, and the replay of one record.

Every ``.dlq`` topic is on Kafka, where the services meet: the operators' console reads them
all from there (the newest records of each partition, redacted by shared/messaging/
redaction.py) and replays a record by publishing it again, with its original headers, to the
topic it came from: the dead-letter topic's own twin (``<topic>.dlq`` back to ``<topic>``),
never a topic a header names. Consumers' inboxes make a replay of a record already applied
harmless.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka import KafkaBroker

from shared.messaging import headers
from shared.messaging.redaction import redacted_headers, redacted_payload
from shared.messaging.topics import DEAD_LETTER_SUFFIX

_DEAD_LETTER_HEADERS = frozenset(
    {
        headers.DEAD_LETTER_REASON,
        headers.DEAD_LETTER_SOURCE,
        headers.DEAD_LETTER_CONSUMER,
        headers.DEAD_LETTER_BODY_OMITTED,
    }
)


@dataclass(frozen=True)
class DeadLetterRecord:
    """One dead letter as the console shows it: where it is, why, and a redacted payload."""

    topic: str
    partition: int
    offset: int
    key: str | None
    at: datetime
    reason: str
    headers: dict[str, str]
    payload: str

    @property
    def address(self) -> str:
        """``topic/partition/offset``: how the console names it (and audits its replay)."""
        return f"{self.topic}/{self.partition}/{self.offset}"


def parse_address(address: str) -> tuple[str, int, int] | None:
    topic, _, rest = address.rpartition("/")
    topic, _, partition = topic.rpartition("/")
    if not topic.endswith(DEAD_LETTER_SUFFIX) or not partition.isdigit() or not rest.isdigit():
        return None
    return topic, int(partition), int(rest)


def _decoded(record: ConsumerRecord[bytes, bytes]) -> dict[str, str]:
    return {name: value.decode(errors="replace") for name, value in record.headers or ()}


def _shown(record: ConsumerRecord[bytes, bytes]) -> DeadLetterRecord:
    record_headers = _decoded(record)
    shown = redacted_headers(record_headers)
    return DeadLetterRecord(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key.decode(errors="replace") if record.key else None,
        at=datetime.fromtimestamp(record.timestamp / 1000, UTC),
        reason=shown.get(headers.DEAD_LETTER_REASON, ""),
        headers=shown,
        payload=redacted_payload(record.value or b""),
    )


class DeadLetterTopics:
    def __init__(self, *, bootstrap_servers: str, client_id: str) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._client_id = client_id

    @contextlib.asynccontextmanager
    async def _consumer(self) -> AsyncIterator[AIOKafkaConsumer]:
        # No group: it reads where it is told and commits nothing.
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap_servers,
            client_id=f"{self._client_id}-dead-letters",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            yield consumer
        finally:
            await consumer.stop()

    async def _partitions(self) -> list[TopicPartition]:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self._bootstrap_servers, client_id=f"{self._client_id}-dead-letters"
        )
        await admin.start()
        try:
            topics = [t for t in await admin.list_topics() if t.endswith(DEAD_LETTER_SUFFIX)]
            described = await admin.describe_topics(topics) if topics else []
        finally:
            await admin.close()
        return [
            TopicPartition(topic["topic"], partition["partition"])
            for topic in described
            for partition in topic["partitions"]
        ]

    async def newest(self, *, per_partition: int = 20) -> list[DeadLetterRecord]:
        """The newest records of every dead-letter partition, newest first."""
        partitions = await self._partitions()
        if not partitions:
            return []
        async with self._consumer() as consumer:
            consumer.assign(partitions)
            starts = await consumer.beginning_offsets(partitions)
            ends = await consumer.end_offsets(partitions)
            wanted = {tp: ends[tp] for tp in partitions if ends[tp] > starts[tp]}
            for tp in wanted:
                consumer.seek(tp, max(starts[tp], ends[tp] - per_partition))
            found: list[DeadLetterRecord] = []
            while wanted:
                batches = await consumer.getmany(*wanted, timeout_ms=2000)
                if not batches:
                    break  # the broker gave nothing more in time: show what came
                for tp, records in batches.items():
                    found += [_shown(r) for r in records if r.offset < wanted.get(tp, 0)]
                    if records and records[-1].offset + 1 >= wanted.get(tp, 0):
                        wanted.pop(tp, None)
        return sorted(found, key=lambda r: (r.at, r.offset), reverse=True)

    async def read(self, topic: str, partition: int, offset: int) -> ConsumerRecord[bytes, bytes]:
        """The record at that address; LookupError when there is none (gone or never)."""
        tp = TopicPartition(topic, partition)
        async with self._consumer() as consumer:
            consumer.assign([tp])
            consumer.seek(tp, offset)
            batches = await consumer.getmany(tp, timeout_ms=5000, max_records=1)
        for record in batches.get(tp, []):
            if record.offset == offset:
                return record
        raise LookupError(f"no dead letter at {topic}/{partition}/{offset}")

    @staticmethod
    async def replay(broker: KafkaBroker, record: ConsumerRecord[bytes, bytes]) -> str:
        """Publishes the record again to the topic it was dead-lettered from; returns it."""
        record_headers = _decoded(record)
        if headers.DEAD_LETTER_BODY_OMITTED in record_headers:
            # Too big to copy: the original stays in its topic; there is nothing to resend.
            raise ValueError("this dead letter holds no body to replay")
        target = str(record.topic).removesuffix(DEAD_LETTER_SUFFIX)
        original = {k: v for k, v in record_headers.items() if k not in _DEAD_LETTER_HEADERS}
        await broker.publish(record.value or b"", target, key=record.key, headers=original)
        return target
