"""A service's one Kafka consumer: reads all the topics the service consumes and hands each
record to the ``FhirMessageConsumer`` of its topic (shared/messaging/consumer.py), applying the
records fetched together in one transaction.

FastStream is told to hand over the record as it is (``raw_record``) and to read headers that
are not UTF-8 without failing (``tolerant_parser``, shared/messaging/raw_records.py):
everything that can be wrong with a record is judged by the ``FhirMessageConsumer``, where it
can be dead-lettered with a reason.

This module builds on the record handling, never the other way round: a service's consumers
are added to its one ``ServiceConsumer`` by ``ServiceRuntime.subscribe``; a topic read alone
(tests, tools) is ``read_alone``.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker
from faststream.message import StreamMessage
from opentelemetry import context as otel_context

from shared.db.pool import Connection
from shared.fhir.envelope import FhirMessage
from shared.messaging.broker import CLINICAL_ACK_POLICY, consumer_group
from shared.messaging.commits import PeriodicCommits
from shared.messaging.consumer import FhirMessageConsumer
from shared.messaging.fetch_wait import FetchWait, HoldFetchesUntilTaken
from shared.messaging.inbox import InboxEntry
from shared.messaging.message_handlers import StatementTogether
from shared.messaging.progress import PartitionProgress
from shared.messaging.raw_records import raw_record, tolerant_parser
from shared.messaging.record_reading import ReadRecord, Skipped, Unreadable
from shared.messaging.topics import PerHospitalTopics, pattern_of
from shared.tracing import name_trace, record_context

log = logging.getLogger(__name__)

# At most this many records fetched together are applied in one transaction.
MAX_BATCH = 50


class ServiceConsumer:
    """A service's one Kafka consumer (one aiokafka consumer in the service's group) for all the
    topics it reads, each record handed to the ``FhirMessageConsumer`` of its topic.

    A consumer fetches while idle (an empty fetch every fetch wait) and heartbeats to its group:
    a consumer per topic cost Kafka that much per topic (the referral service had four). Kafka
    subscribes a consumer to a list of topics or to one pattern, never to both: a service that
    reads the hospitals' own topics (a pattern) reads its other topics by the same pattern.

    **The records fetched together are applied in one transaction.** FastStream hands over one
    record at a time (through the ``ConsumerGuard`` and the telemetry middleware); the records
    already fetched behind it (``getmany`` without waiting, at most ``max_batch`` in all) are
    applied with it, in their order per partition, each with its inbox claim, its handler and
    its own span, and their offsets noted once the transaction committed; a service's
    ``StatementTogether`` (``apply_together_with``) applies several of them, in order, by one
    statement (the referral service's timeline echoes). Anything else than
    plain success (an unreadable or impersonating record, a refusal, a failure) rolls the
    batch back and gives the records behind the first one back to the consumer (a seek to
    each partition's first): the first is then handled alone as before, and the next
    ``len(batch)`` records are read one at a time, so a poison record is retried or
    dead-lettered by the guard alone and the others are applied once.

    Taking what was fetched also keeps a record from waiting for the fetch wait: aiokafka
    sends no fetch for a partition whose fetched records are not all taken, and after its
    prefetch backoff fetches the other partitions without it; a record arriving on it then
    waited for that fetch to return (up to the fetch wait). Taken, every partition is in the
    next fetch, which returns as soon as a record arrives; and the backoff is held until they
    are taken (``PREFETCH_HOLD_S``, shared/messaging/fetch_wait.py), however long a record
    takes to reach the handler.

    A topic's consumer is told the messages it is to apply together before the first is
    applied (its ``TogetherHook``, e.g. to take the locks their statements would take one by
    one, in one order).
    """

    def __init__(
        self,
        *,
        broker: KafkaBroker,
        pool: asyncpg.Pool,
        service_name: str,
        fetch_max_wait_ms: int,
        commit_interval_s: float,
        idle_fetch_max_wait_ms: int | None = None,
        progress: PartitionProgress | None = None,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._broker = broker
        self._pool = pool
        self.group = consumer_group(service_name)
        self._fetch_max_wait_ms = fetch_max_wait_ms
        self.fetch_wait = FetchWait(
            busy_ms=fetch_max_wait_ms, idle_ms=idle_fetch_max_wait_ms or fetch_max_wait_ms
        )
        self._commits = PeriodicCommits(interval_s=commit_interval_s)
        # The guard's (readiness): the records taken behind the first finish here.
        self._progress = progress
        self._max_batch = max_batch
        self._consumers: list[FhirMessageConsumer] = []
        self._by_topic: dict[str, FhirMessageConsumer] = {}
        self._kafka: AIOKafkaConsumer | None = None
        # Records still to be read one at a time after a batch that was rolled back.
        self._singles = 0
        self._together: StatementTogether | None = None

    @property
    def consumers(self) -> tuple[FhirMessageConsumer, ...]:
        return tuple(self._consumers)

    def add(self, consumer: FhirMessageConsumer) -> None:
        if any(consumer.topic == other.topic for other in self._consumers):
            raise ValueError(f"{consumer.topic} is read by one FhirMessageConsumer only")
        self._consumers.append(consumer)

    def apply_together_with(self, statement: StatementTogether) -> None:
        """Records fetched together that ``statement`` takes are applied by it, several in one
        statement, in the batch's transaction (the others each by its own use case)."""
        self._together = statement

    def subscribe(self, *, include_in_schema: bool = False) -> None:
        """Registers the Kafka subscriber (before the broker starts). A service's AsyncAPI
        document lists its topics one by one instead (``ServiceRuntime.specification``)."""
        if not self._consumers:
            return
        topics = [consumer.topic for consumer in self._consumers]
        names: tuple[str, ...] = ()
        pattern: str | None = None
        per_hospital = [topic for topic in topics if isinstance(topic, PerHospitalTopics)]
        # Every hospital's topic, those created later too (found when the metadata is next
        # refreshed: shared.messaging.broker.METADATA_MAX_AGE_MS).
        if per_hospital and len(topics) == 1:
            pattern = per_hospital[0].pattern
        elif per_hospital:
            pattern = pattern_of(topics)
        else:
            names = tuple(topic.address for topic in topics)
        addresses = ",".join(topic.address for topic in topics)

        subscriber = self._broker.subscriber(
            *names,
            pattern=pattern,
            group_id=self.group,
            ack_policy=CLINICAL_ACK_POLICY,
            # A new service reads what was published before it first joined (and a hospital's
            # new topic from its first message).
            auto_offset_reset="earliest",
            fetch_max_wait_ms=self._fetch_max_wait_ms,
            title=f"{self.group}:{addresses}",
            description=self._consumers[0].topic.description,
            include_in_schema=include_in_schema,
            parser=self._parse,
            decoder=raw_record,
            listener=HoldFetchesUntilTaken(
                self._commits.listener,
                lambda: getattr(subscriber, "consumer", None),
                self.fetch_wait,
            ),
        )

        @subscriber
        async def consume(record: Any) -> None:
            await self._consume(record)

    async def _consume(self, first: ConsumerRecord[bytes, bytes]) -> None:
        behind = await self._take_fetched()
        if behind:
            batch = [first, *behind]
            if await self._apply_together(batch):
                return
            self._give_back(behind)
            self._singles = len(batch)
        await self._consumer_of(first.topic).handle(first)

    async def _take_fetched(self) -> list[ConsumerRecord[bytes, bytes]]:
        """The records fetched and not yet taken, at once (nothing is waited for)."""
        kafka = self._kafka
        if self._singles > 0:
            self._singles -= 1
            return []
        if kafka is None or self._max_batch <= 1:
            return []
        try:
            taken = await kafka.getmany(timeout_ms=0, max_records=self._max_batch - 1)
        except KafkaError as error:  # raised again by the next read, through FastStream's loop
            log.debug("records fetched behind the first not taken: %s", error)
            return []
        return [record for records in taken.values() for record in records]

    async def _apply_together(self, batch: list[ConsumerRecord[bytes, bytes]]) -> bool:
        """Applies ``batch`` in one transaction; False (rolled back) unless every record was
        plain and applied or skipped. Only what is applied costs a statement: another service's
        event is skipped from its headers, a batch with nothing to apply sends none, and one
        with a single record to apply applies it as ``handle`` would (its one statement where
        it has one, no BEGIN and COMMIT around it)."""
        reads: list[tuple[FhirMessageConsumer, ConsumerRecord[bytes, bytes], ReadRecord]] = []
        for record in batch:
            consumer = self._consumer_of(record.topic)
            read = consumer.read(record)
            if isinstance(read, Skipped):  # another service's event: nothing to apply
                with _trace_context_of(record):
                    name_trace(read.ids)
                continue
            if isinstance(read, Unreadable) or not read.plain:
                return False
            if read.handler is None:
                with _trace_context_of(record):
                    name_trace(read.ids)
                continue
            reads.append((consumer, record, read))
        applied: list[tuple[FhirMessageConsumer, FhirMessage]] = []
        try:
            if len(reads) == 1:
                # Nothing to apply together: no transaction around its one statement.
                consumer, record, read = reads[0]
                async with self._pool.acquire() as connection:
                    with _trace_context_of(record):
                        if await consumer.apply_in(connection, record, read, own_transaction=True):
                            applied.append((consumer, read.message))
            elif reads:
                async with self._pool.acquire() as connection, connection.transaction():
                    with _applying_together(connection, reads):
                        await self._apply_in_order(connection, reads, applied)
        except Exception as error:  # each record again, alone: refused, retried, dead-lettered
            log.info(
                "%d records fetched together rolled back (%s); applying them one by one",
                len(batch),
                type(error).__name__,
            )
            return False
        for record in batch[1:]:  # the first is FastStream's to acknowledge (and the guard's)
            if self._kafka is not None:
                await self._commits.note(self._kafka, record)
            if self._progress is not None:
                self._progress.finished(record.topic, record.partition, record.offset)
        for consumer, message in applied:
            consumer.committed(message)
        return True

    async def _apply_in_order(
        self,
        connection: Connection,
        reads: list[tuple[FhirMessageConsumer, ConsumerRecord[bytes, bytes], ReadRecord]],
        applied: list[tuple[FhirMessageConsumer, FhirMessage]],
    ) -> None:
        """Applies ``reads`` in order in the caller's transaction: those the service's
        ``StatementTogether`` takes by its statements, the others each by its use case."""
        entries = [InboxEntry(read.message, record.topic, read.digest) for _, record, read in reads]
        index = 0
        while index < len(reads):
            if self._together is not None:
                started_ns = time.time_ns()
                claims = await self._together(connection, entries[index:])
                for claim, entry, (consumer, record, read) in zip(
                    claims, entries[index:], reads[index:], strict=False
                ):
                    with _trace_context_of(record):
                        if consumer.applied_together(read, entry, claim, started_ns=started_ns):
                            applied.append((consumer, read.message))
                index += len(claims)
                if index == len(reads):
                    return
            consumer, record, read = reads[index]
            with _trace_context_of(record):
                if await consumer.apply_in(connection, record, read):
                    applied.append((consumer, read.message))
            index += 1

    def _give_back(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        """Makes the consumer read ``records`` again: each partition from its first one (one
        handed on in a rebalance meanwhile is read from its last commit by its new holder)."""
        kafka = self._kafka
        if kafka is None:
            return
        assigned = kafka.assignment()
        first: dict[TopicPartition, int] = {}
        for record in records:
            partition = TopicPartition(record.topic, record.partition)
            first[partition] = min(first.get(partition, record.offset), record.offset)
        for partition, offset in first.items():
            if partition in assigned:
                kafka.seek(partition, offset)

    def _consumer_of(self, topic_name: str) -> FhirMessageConsumer:
        consumer = self._by_topic.get(topic_name)
        if consumer is None:
            consumer = next((each for each in self._consumers if each.reads(topic_name)), None)
            if consumer is None:  # the subscription reads only these consumers' topics
                raise LookupError(f"no consumer of {topic_name} in {self.group}")
            self._by_topic[topic_name] = consumer
        return consumer

    async def commit_handled(self) -> None:
        """Commits the offsets of the records handled since the last commit (at shutdown, before
        the broker stops, so a restart does not read them again); no commit is planned after
        it (``PeriodicCommits.commit_at_shutdown``)."""
        await self._commits.commit_at_shutdown()

    async def _parse(
        self,
        record: ConsumerRecord[bytes, bytes],
        original: Callable[[ConsumerRecord[bytes, bytes]], Awaitable[StreamMessage[Any]]],
    ) -> StreamMessage[Any]:
        self.fetch_wait.record_came()
        message = await tolerant_parser(record, original)
        kafka = getattr(message, "consumer", None)
        if isinstance(kafka, AIOKafkaConsumer):
            self._kafka = kafka
        self._commits.acknowledge_by_noting(message)
        return message


def read_alone(
    consumer: FhirMessageConsumer,
    *,
    fetch_max_wait_ms: int = 500,
    commit_interval_s: float = 0.0,
    idle_fetch_max_wait_ms: int | None = None,
    progress: PartitionProgress | None = None,
) -> ServiceConsumer:
    """Reads ``consumer``'s topic with a Kafka consumer of its own, in its service's group (a
    service reads all its topics with one: ``ServiceRuntime.subscribe``). Registered before the
    broker starts; ``commit_handled`` on the answer commits what it handled."""
    reader = ServiceConsumer(
        broker=consumer.broker,
        pool=consumer.pool,
        service_name=consumer.service_name,
        fetch_max_wait_ms=fetch_max_wait_ms,
        commit_interval_s=commit_interval_s,
        idle_fetch_max_wait_ms=idle_fetch_max_wait_ms,
        progress=progress,
    )
    reader.add(consumer)
    reader.subscribe(include_in_schema=consumer.include_in_schema)
    return reader


@contextlib.contextmanager
def _applying_together(
    connection: Connection,
    reads: list[tuple[FhirMessageConsumer, ConsumerRecord[bytes, bytes], ReadRecord]],
) -> Iterator[None]:
    """Each consumer's ``applying_together`` with its messages of the batch, around them."""
    messages: dict[FhirMessageConsumer, list[FhirMessage]] = {}
    for consumer, _, read in reads:
        messages.setdefault(consumer, []).append(read.message)
    with contextlib.ExitStack() as together:
        for consumer, theirs in messages.items():
            together.enter_context(consumer.applying_together(connection, theirs))
        yield


@contextlib.contextmanager
def _trace_context_of(record: ConsumerRecord[bytes, bytes]) -> Iterator[None]:
    """The record's trace (its ``traceparent`` and baggage) as the current context, as
    FastStream's telemetry middleware makes it for the record it hands over."""
    token = otel_context.attach(record_context(record.headers or ()))
    try:
        yield
    finally:
        otel_context.detach(token)
