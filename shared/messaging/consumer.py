"""Turns FHIR message handlers into Kafka subscribers with the platform's delivery guarantees.

For each record: check its size (and the JSON depth of one a hospital wrote) from the raw bytes,
parse and check the FHIR message (dead-letter it with the reason if it breaks a limit or is not
one; one the network's own relay wrote is read without validating it whole), skip it if no
handler of this service wants its event, then, in one database transaction, record it in the
inbox and apply the handler (a redelivery finds it and has no second effect; a sender's id
reused for other content is refused). A handler raising a ``DomainError`` (shared/errors.py,
e.g. ``PermanentMessageError``) dead-letters the message (or answers the sender with a
refusal). Any other error rolls the transaction back and propagates to the service's
``ConsumerGuard`` (shared/messaging/guard.py): read again while the database or broker is away,
a few times otherwise, then dead-lettered, so one bad record cannot block its partition.

On a hospital's own topic (``PerHospitalTopics``, subscribed by pattern) the message must be
sent in that hospital's name: only its Kafka user may write the topic, so a ``MessageHeader.sender``
naming anyone else is an impersonation. It is dead-lettered with the reason and answered to the
hospital that wrote it, once: the refusal is recorded in the inbox under the writer
(``refused_writer``, never under the hospital it named, whose message ids stay its own) in the
transaction that answers it, so a redelivery is neither dead-lettered nor answered again.

FastStream is told to hand over the record as it is (``raw_record``) and to read headers that
are not UTF-8 without failing (``tolerant_parser``): everything that can be wrong with a record
is judged here, where it can be dead-lettered with a reason.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker
from faststream.message import StreamMessage
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import StatusCode

from shared.db.pool import Connection
from shared.errors import DomainError
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage, InvalidMessage, parse_message, read_relayed_message
from shared.fhir.models import FHIR_VERSION
from shared.fhir.references import organization_id
from shared.messaging import headers
from shared.messaging.broker import CLINICAL_ACK_POLICY, consumer_group
from shared.messaging.commits import PeriodicCommits
from shared.messaging.dead_letters import publish_dead_letter
from shared.messaging.inbox import (
    Claim,
    claim_message,
    received_content_digest,
    refused_writer,
    reused_id_reason,
)
from shared.messaging.limits import (
    MAX_JSON_DEPTH,
    MAX_RECORD_BYTES,
    check_json_depth,
    check_record_limits,
    check_record_size,
)
from shared.messaging.progress import PartitionProgress
from shared.messaging.topics import PerHospitalTopics, Topic, pattern_of
from shared.tracing import ReferralIds, about_referral, name_trace

log = logging.getLogger(__name__)

MessageHandler = Callable[[Connection, FhirMessage], Awaitable[None]]
# Answers a message that was refused (e.g. with a fatal-error response), in its own transaction.
RefusalHandler = Callable[[Connection, FhirMessage, "PermanentMessageError"], Awaitable[None]]

# At most this many records fetched together are applied in one transaction.
MAX_BATCH = 50


class PermanentMessageError(DomainError):
    """A valid FHIR message that can never be applied; ``reason`` is safe to log and return.

    ``issue_code`` is the http://hl7.org/fhir/issue-type code for the sender's OperationOutcome,
    ``expression`` the FHIRPath of the element at fault (the same issue $process-message gives).
    ``answer_to``: the Organization id to answer when it is not the message's sender (the
    hospital that really wrote a message sent in another's name).
    """

    def __init__(
        self,
        reason: str,
        *,
        issue_code: str = "processing",
        expression: str | None = None,
        answer_to: str | None = None,
    ) -> None:
        super().__init__(reason, expression=expression)
        self.issue_code = issue_code
        self.answer_to = answer_to

    @classmethod
    def of(cls, error: DomainError) -> PermanentMessageError:
        """A handler's refusal, as the message's: same reason, issue type and element."""
        if isinstance(error, cls):
            return error
        return cls(error.reason, issue_code=error.issue_code, expression=error.expression)


def impersonation(message: FhirMessage, *, writer: str, topic: str) -> PermanentMessageError:
    """The refusal of a message that ``writer``'s topic carried in someone else's name."""
    return PermanentMessageError(
        f"MessageHeader.sender {message.sender[:80]!r} is not Organization/{writer}, the only "
        f"hospital that may write {topic}: a hospital sends only in its own name (not applied)",
        issue_code="forbidden",
        expression="Bundle.entry[0].resource.sender",
        answer_to=writer,
    )


@dataclasses.dataclass(frozen=True)
class Unreadable:
    """A record that is no FHIR message this platform takes (dead-lettered with the reason)."""

    reason: str


@dataclasses.dataclass(frozen=True)
class ReadRecord:
    message: FhirMessage
    ids: ReferralIds
    # None: another service's event on a shared topic (skipped).
    handler: MessageHandler | None
    # The hospital that wrote the message in another's name on its own topic (refused).
    impersonator: str | None

    @property
    def plain(self) -> bool:
        """Applied as it is, or skipped: nothing to dead-letter or to answer before it."""
        return self.impersonator is None


class FhirMessageConsumer:
    """The handling of one topic's records (or of every hospital's own topic): a service's
    ``ServiceConsumer`` reads them with its other topics' records and hands each one here."""

    def __init__(
        self,
        *,
        broker: KafkaBroker,
        pool: asyncpg.Pool,
        topic: Topic | PerHospitalTopics,
        service_name: str,
        handlers: Mapping[EventCode, MessageHandler],
        after_commit: Callable[[FhirMessage], None] | None = None,
        on_refused: RefusalHandler | None = None,
        include_in_schema: bool = True,
        fetch_max_wait_ms: int = 500,
        commit_interval_s: float = 0.0,
        dead_letters_unreadable: bool = True,
        progress: PartitionProgress | None = None,
    ) -> None:
        self._broker = broker
        # The guard's, for ``subscribe`` alone (readiness: see ServiceConsumer).
        self._progress = progress
        # For ``subscribe`` alone (a Kafka consumer of this topic only); a service's
        # ServiceConsumer has its own (PlatformSettings.consumer_fetch_max_wait_ms and
        # consumer_commit_interval_s).
        self._fetch_max_wait_ms = fetch_max_wait_ms
        self._commit_interval_s = commit_interval_s
        self._reader: ServiceConsumer | None = None
        self._pool = pool
        self.topic = topic
        self._group = consumer_group(service_name)
        self._service_name = service_name
        self._tracer = trace.get_tracer("fasttrack.consumer")
        self._handlers = dict(handlers)
        self._after_commit = after_commit
        self._on_refused = on_refused
        # Listed in the service's AsyncAPI document (GET /asyncapi.json)?
        self.include_in_schema = include_in_schema
        # False where another service owns the topic's unreadable records (dead-letters and
        # answers them): one dead letter per bad record, not one per consumer group.
        self._dead_letters_unreadable = dead_letters_unreadable

    def reads(self, topic_name: str) -> bool:
        """Whether ``topic_name`` is this consumer's topic (or one of the hospitals' own)."""
        if isinstance(self.topic, PerHospitalTopics):
            return self.topic.organization(topic_name) is not None
        return topic_name == self.topic.name

    def subscribe(self) -> None:
        """Reads this topic with a Kafka consumer of its own (a service reads all its topics
        with one: ``ServiceConsumer``)."""
        self._reader = ServiceConsumer(
            broker=self._broker,
            pool=self._pool,
            service_name=self._service_name,
            progress=self._progress,
            fetch_max_wait_ms=self._fetch_max_wait_ms,
            commit_interval_s=self._commit_interval_s,
        )
        self._reader.add(self)
        self._reader.subscribe(include_in_schema=self.include_in_schema)

    async def commit_handled(self) -> None:
        """Commits the offsets of the records handled since the last commit (at shutdown, so a
        restart does not read them again)."""
        if self._reader is not None:
            await self._reader.commit_handled()

    def read(self, record: ConsumerRecord[bytes, bytes]) -> ReadRecord | Unreadable:
        """What ``record`` holds and what this consumer would do with it, without doing it."""
        value = record.value or b""
        try:
            if self._relayed(record):
                message = _read_relayed(value)
            else:
                # A hospital's record: judged from its bytes, then validated whole.
                check_record_limits(value, max_bytes=MAX_RECORD_BYTES, max_depth=MAX_JSON_DEPTH)
                message = parse_message(value)
        except InvalidMessage as invalid:
            return Unreadable(invalid.reason)
        key = (record.key or b"").decode(errors="replace")
        ids = ReferralIds.from_headers(record.headers or ()).merged(
            ReferralIds.of_message(message, key=key)
        )
        handler = self._handlers.get(message.event)
        writer = self._writer(record.topic)
        impersonated = (
            handler is not None and writer is not None and organization_id(message.sender) != writer
        )
        return ReadRecord(message, ids, handler, writer if impersonated else None)

    async def handle(self, record: ConsumerRecord[bytes, bytes]) -> None:
        read = self.read(record)
        if isinstance(read, Unreadable):
            if self._dead_letters_unreadable:
                await self.dead_letter(record, read.reason)
            else:
                log.debug("unreadable record on %s left to the topic's owner", record.topic)
            return
        message = read.message
        if read.handler is None:
            # Another service's event on a shared topic: not ours to apply (nor to refuse: the
            # service that applies it judges its sender), but the record's span still names
            # its referral.
            name_trace(read.ids)
            return
        if read.impersonator is not None:
            writer = read.impersonator
            await self._refuse_impersonation(
                record, message, impersonation(message, writer=writer, topic=record.topic), writer
            )
            return
        with self._handling(read):
            await self._apply(record, message, read.handler)

    @contextlib.contextmanager
    def _handling(self, read: ReadRecord) -> Iterator[None]:
        """The span of the record's use case, about its referral."""
        with (
            about_referral(read.ids),
            self._tracer.start_as_current_span(
                f"{self._service_name} handle {read.message.event.value}",
                kind=trace.SpanKind.CONSUMER,
            ) as span,
        ):
            span.set_attribute("messaging.message.id", read.message.message_id)
            yield

    async def apply_in(
        self, connection: Connection, record: ConsumerRecord[bytes, bytes], read: ReadRecord
    ) -> bool:
        """Applies a record read as plain (a handler of this service, no impersonation) in the
        caller's transaction, with the others fetched with it: records it in the inbox and
        runs its handler. False: a repeat, skipped. A refusal (``DomainError``) or any other
        error is the caller's: it rolls the whole transaction back and handles the records one
        by one (``handle``)."""
        if read.handler is None:
            name_trace(read.ids)
            return False
        with self._handling(read):
            claim = await claim_message(
                connection,
                message=read.message,
                topic=record.topic,
                digest=received_content_digest(record.value or b""),
            )
            if claim is Claim.REUSED_ID:
                raise PermanentMessageError(reused_id_reason(read.message), issue_code="duplicate")
            if claim is Claim.REPEAT:
                log.info("duplicate message %s skipped", read.message.message_id)
                return False
            await read.handler(connection, read.message)
            return True

    def committed(self, message: FhirMessage) -> None:
        """``message``'s effect committed: what the service does next (``after_commit``)."""
        if self._after_commit is not None:
            self._after_commit(message)

    async def _apply(
        self, record: ConsumerRecord[bytes, bytes], message: FhirMessage, handler: MessageHandler
    ) -> None:
        try:
            async with self._pool.acquire() as connection, connection.transaction():
                claim = await claim_message(
                    connection,
                    message=message,
                    topic=record.topic,
                    digest=received_content_digest(record.value or b""),
                )
                if claim is Claim.REUSED_ID:
                    raise PermanentMessageError(reused_id_reason(message), issue_code="duplicate")
                if claim is Claim.REPEAT:
                    log.info("duplicate message %s skipped", message.message_id)
                    return
                await handler(connection, message)
        except DomainError as refused:
            await self._refuse(record, message, PermanentMessageError.of(refused))
        # Any other error goes on to the ConsumerGuard, which reads the record again or
        # dead-letters it.
        else:
            self.committed(message)

    async def _refuse(
        self,
        record: ConsumerRecord[bytes, bytes],
        message: FhirMessage,
        refused: PermanentMessageError,
    ) -> None:
        """Answers the sender when this consumer knows how; dead-letters the message otherwise."""
        if self._on_refused is None:
            await self.dead_letter(record, refused.reason)
            return
        log.warning("refused message %s: %s", message.message_id, refused.reason)
        async with self._pool.acquire() as connection, connection.transaction():
            # The refusal is the message's effect: a redelivery is not answered twice. A reused
            # id is answered every time: the id's own message keeps its place in the inbox.
            claim = await claim_message(
                connection,
                message=message,
                topic=record.topic,
                digest=received_content_digest(record.value or b""),
            )
            if claim is not Claim.REPEAT:
                await self._on_refused(connection, message, refused)

    def _relayed(self, record: ConsumerRecord[bytes, bytes]) -> bool:
        """Whether the network's own outbox relay published the record: it names its producer
        and the FHIR version it was built for, on a topic no hospital writes."""
        found = dict(record.headers or ())
        return (
            headers.PRODUCER in found
            and found.get(headers.FHIR_VERSION) == FHIR_VERSION.encode()
            and self._writer(record.topic) is None
        )

    def _writer(self, topic: str) -> str | None:
        """The hospital whose own topic ``topic`` is (the only one its ACL lets write it)."""
        if isinstance(self.topic, PerHospitalTopics):
            return self.topic.organization(topic)
        return None

    async def _refuse_impersonation(
        self,
        record: ConsumerRecord[bytes, bytes],
        message: FhirMessage,
        refused: PermanentMessageError,
        writer: str,
    ) -> None:
        """Dead-letters a message sent in another's name and answers the hospital that wrote it,
        once. The dead letter is published inside the transaction that records the refusal: if
        it cannot be published nothing is recorded and the record is read again; a crash after
        the commit finds the refusal recorded when the record comes again."""
        async with self._pool.acquire() as connection, connection.transaction():
            claim = await claim_message(
                connection,
                message=message,
                topic=record.topic,
                digest=received_content_digest(record.value or b""),
                sender=refused_writer(writer),
            )
            if claim is Claim.REPEAT:
                log.info("refused message %s read again: already refused", message.message_id)
                return
            await self.dead_letter(record, refused.reason)
            if self._on_refused is not None:
                await self._on_refused(connection, message, refused)

    async def dead_letter(self, record: ConsumerRecord[bytes, bytes], reason: str) -> None:
        """Dead-letters the record as an error of its trace (so the collector's tail sampling
        keeps it): on the handling's span, or on a span of its own when the record was refused
        before any handling began (FastStream makes none: shared/messaging/broker.py)."""
        current = trace.get_current_span()
        if current.is_recording():
            current.set_status(StatusCode.ERROR, reason)
            await publish_dead_letter(self._broker, record, reason=reason, group=self._group)
            return
        carrier = {name: value.decode(errors="replace") for name, value in record.headers or ()}
        with self._tracer.start_as_current_span(
            f"{self._service_name} dead-letter {record.topic}",
            context=propagate.extract(carrier),
            kind=trace.SpanKind.CONSUMER,
        ) as span:
            span.set_status(StatusCode.ERROR, reason)
            await publish_dead_letter(self._broker, record, reason=reason, group=self._group)


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
    its own span, and their offsets noted once the transaction committed. Anything else than
    plain success (an unreadable or impersonating record, a refusal, a failure) rolls the
    batch back and gives the records behind the first one back to the consumer (a seek to
    each partition's first): the first is then handled alone as before, and the next
    ``len(batch)`` records are read one at a time, so a poison record is retried or
    dead-lettered by the guard alone and the others are applied once.

    Taking what was fetched also keeps a record from waiting for the fetch wait: aiokafka
    sends no fetch for a partition whose fetched records are not all taken, and after 100 ms
    (its prefetch backoff) fetches the other partitions without it; a record arriving on it
    then waited for that fetch to return (up to the fetch wait). Taken, every partition is in
    the next fetch, which returns as soon as a record arrives.
    """

    def __init__(
        self,
        *,
        broker: KafkaBroker,
        pool: asyncpg.Pool,
        service_name: str,
        fetch_max_wait_ms: int,
        commit_interval_s: float,
        progress: PartitionProgress | None = None,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._broker = broker
        self._pool = pool
        self.group = consumer_group(service_name)
        self._fetch_max_wait_ms = fetch_max_wait_ms
        self._commits = PeriodicCommits(interval_s=commit_interval_s)
        # The guard's (readiness): the records taken behind the first finish here.
        self._progress = progress
        self._max_batch = max_batch
        self._consumers: list[FhirMessageConsumer] = []
        self._by_topic: dict[str, FhirMessageConsumer] = {}
        self._kafka: AIOKafkaConsumer | None = None
        # Records still to be read one at a time after a batch that was rolled back.
        self._singles = 0

    @property
    def consumers(self) -> tuple[FhirMessageConsumer, ...]:
        return tuple(self._consumers)

    def add(self, consumer: FhirMessageConsumer) -> None:
        if any(consumer.topic == other.topic for other in self._consumers):
            raise ValueError(f"{consumer.topic} is read by one FhirMessageConsumer only")
        self._consumers.append(consumer)

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

        @self._broker.subscriber(
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
            listener=self._commits.listener,
        )
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
        plain and applied or skipped."""
        reads = []
        for record in batch:
            consumer = self._consumer_of(record.topic)
            read = consumer.read(record)
            if isinstance(read, Unreadable) or not read.plain:
                return False
            reads.append((consumer, record, read))
        applied: list[tuple[FhirMessageConsumer, FhirMessage]] = []
        try:
            async with self._pool.acquire() as connection, connection.transaction():
                for consumer, record, read in reads:
                    with _trace_context_of(record):
                        if await consumer.apply_in(connection, record, read):
                            applied.append((consumer, read.message))
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
        """Commits the offsets of the records handled since the last commit (at shutdown, so a
        restart does not read them again)."""
        await self._commits.commit_noted()

    async def _parse(
        self,
        record: ConsumerRecord[bytes, bytes],
        original: Callable[[ConsumerRecord[bytes, bytes]], Awaitable[StreamMessage[Any]]],
    ) -> StreamMessage[Any]:
        message = await tolerant_parser(record, original)
        kafka = getattr(message, "consumer", None)
        if isinstance(kafka, AIOKafkaConsumer):
            self._kafka = kafka
        self._commits.acknowledge_by_noting(message)
        return message


def _read_relayed(value: bytes) -> FhirMessage:
    """A record of the network's own relay, validated where it entered the network: its depth
    is not scanned (1-4 % of a service's CPU, nearly all on these internal hops). Only the
    network's services write these topics, and their builders' every output is parsed back
    strictly, nesting included, by the test suite; orjson refuses JSON nested past 1,024 levels,
    so a record that is no such message is still dead-lettered, with its depth as the reason."""
    check_record_size(value, max_bytes=MAX_RECORD_BYTES)
    try:
        return read_relayed_message(value)
    except InvalidMessage:
        check_json_depth(value, max_depth=MAX_JSON_DEPTH)
        raise


@contextlib.contextmanager
def _trace_context_of(record: ConsumerRecord[bytes, bytes]) -> Iterator[None]:
    """The record's trace (its ``traceparent`` and baggage) as the current context, as
    FastStream's telemetry middleware makes it for the record it hands over."""
    carrier = {name: value.decode(errors="replace") for name, value in record.headers or ()}
    token = otel_context.attach(propagate.extract(carrier))
    try:
        yield
    finally:
        otel_context.detach(token)


async def tolerant_parser(
    record: ConsumerRecord[bytes, bytes],
    original: Callable[[ConsumerRecord[bytes, bytes]], Awaitable[StreamMessage[Any]]],
) -> StreamMessage[Any]:
    """FastStream's own parser, except that a header value that is not UTF-8 (which makes it
    raise before any handler runs) is read with replacement characters."""
    try:
        return await original(record)
    except UnicodeDecodeError:
        readable = [
            (name, value.decode(errors="replace").encode()) for name, value in record.headers
        ]
        return await original(dataclasses.replace(record, headers=readable))


async def raw_record(message: StreamMessage[Any]) -> Any:
    """The record as aiokafka read it, handed to the handler as its one argument: its bytes
    untouched (FastStream's JSON decoding, which fails on JSON nested too deep or an integer too
    long, never runs; ``handle`` judges the body) and no ``Context`` parameter, which FastDepends
    resolves on a worker thread for every record (a thread hand-off per message, 5-10% of a
    consumer's CPU in the profile)."""
    return message.raw_message
