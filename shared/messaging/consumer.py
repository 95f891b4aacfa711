"""Turns FHIR message handlers into Kafka subscribers with the platform's delivery guarantees.

For each record: check its size (and the JSON depth of one a hospital wrote) from the raw bytes,
parse and check the FHIR message (dead-letter it with the reason if it breaks a limit or is not one;
one the network's own relay wrote is read without validating it whole: all three by
``RecordReader``, shared/messaging/record_reading.py), skip it if no handler of this service wants
its event, then, in one database transaction, record it in the inbox and apply the handler (a
redelivery finds it and has no second effect; a sender's id reused for other content is refused). A
handler raising a ``DomainError`` (shared/errors.py, e.g. ``PermanentMessageError``) dead-letters
the message (or answers the sender with a refusal). Any other error rolls the transaction back and
propagates to the service's ``ConsumerGuard`` (shared/messaging/guard.py): read again while the
database or broker is away, a few times otherwise, then dead-lettered, so one bad record cannot
block its partition.

On a hospital's own topic (``PerHospitalTopics``, subscribed by pattern) the message must be
sent in that hospital's name: only its Kafka user may write the topic, so a ``MessageHeader.sender``
naming anyone else is an impersonation. It is dead-lettered with the reason and answered to the
hospital that wrote it, once: the refusal is recorded in the inbox under the writer
(``refused_writer``, never under the hospital it named, whose message ids stay its own) in the
transaction that answers it, so a redelivery is neither dead-lettered nor answered again.

A service's one Kafka consumer (``ServiceConsumer``, shared/messaging/service_consumer.py)
reads the records of all its topics and hands each one to the ``FhirMessageConsumer`` of its
topic, here, or applies the records fetched together in one transaction (``read``, ``apply_in``).
It asks FastStream for the record as it is: everything that can be wrong with a record is judged
here, where it can be dead-lettered with a reason.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager

import asyncpg
from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker
from opentelemetry import trace
from opentelemetry.trace import StatusCode

from shared.db.pool import Connection
from shared.errors import DomainError
from shared.fhir.codes import EventCode
from shared.fhir.envelope import (
    FhirMessage,
)
from shared.messaging.broker import consumer_group
from shared.messaging.claim_and_apply import applied, claim_and_apply
from shared.messaging.dead_letters import publish_dead_letter
from shared.messaging.inbox import (
    Claim,
    InboxEntry,
    claim_message,
    refused_writer,
)
from shared.messaging.message_handlers import (
    MessageHandler,
    OneStatementHandler,
    PermanentMessageError,
    RefusalHandler,
    TogetherHook,
    impersonation,
)
from shared.messaging.record_reading import ReadRecord, RecordReader, Skipped, Unreadable
from shared.messaging.topics import PerHospitalTopics, Topic
from shared.tracing import about_referral, name_trace, record_context

log = logging.getLogger(__name__)


class FhirMessageConsumer:
    """The handling of one topic's records (or of every hospital's own topic): a service's
    ``ServiceConsumer`` reads them with its other topics' records and hands each one here
    (``ServiceRuntime.subscribe``; a test reads one topic alone with ``read_alone``)."""

    def __init__(
        self,
        *,
        broker: KafkaBroker,
        pool: asyncpg.Pool,
        topic: Topic | PerHospitalTopics,
        service_name: str,
        handlers: Mapping[EventCode, MessageHandler],
        in_one_statement: Mapping[EventCode, OneStatementHandler] | None = None,
        after_commit: Callable[[FhirMessage], None] | None = None,
        on_refused: RefusalHandler | None = None,
        include_in_schema: bool = True,
        dead_letters_unreadable: bool = True,
        applying_together: TogetherHook | None = None,
    ) -> None:
        self.broker = broker
        self.pool = pool
        self.topic = topic
        self._group = consumer_group(service_name)
        self.service_name = service_name
        self._tracer = trace.get_tracer("fasttrack.consumer")
        self._handlers = dict(handlers)
        self._reader = RecordReader(topic, self._handlers)
        # Tried first for their events: the message claimed by its effect's statement.
        self._in_one_statement = dict(in_one_statement or {})
        if not self._in_one_statement.keys() <= self._handlers.keys():
            raise ValueError("a one-statement use case needs its event's MessageHandler")
        self._after_commit = after_commit
        self._applying_together = applying_together
        self._on_refused = on_refused
        # Listed in the service's AsyncAPI document (GET /asyncapi.json)?
        self.include_in_schema = include_in_schema
        # False where another service owns the topic's unreadable records (dead-letters and
        # answers them): one dead letter per bad record, not one per consumer group.
        self._dead_letters_unreadable = dead_letters_unreadable

    def read(self, record: ConsumerRecord[bytes, bytes]) -> ReadRecord | Unreadable | Skipped:
        """What ``record`` holds and what this consumer would do with it, without doing it."""
        return self._reader.read(record)

    def reads(self, topic_name: str) -> bool:
        """Whether ``topic_name`` is this consumer's topic (or one of the hospitals' own)."""
        if isinstance(self.topic, PerHospitalTopics):
            return self.topic.organization(topic_name) is not None
        return topic_name == self.topic.name

    async def handle(self, record: ConsumerRecord[bytes, bytes]) -> None:
        read = self.read(record)
        if isinstance(read, Skipped):
            name_trace(read.ids)
            return
        if isinstance(read, Unreadable):
            if self._dead_letters_unreadable:
                await self.dead_letter(record, read.reason)
            else:
                log.debug("unreadable record on %s left to the topic's owner", record.topic)
            return
        message = read.message
        if read.handler is None:
            # Another service's event on a shared topic: not ours to apply (nor to refuse: the
            # service that applies it judges its sender). No span is made for it (FastStream's
            # tracer is a no-op), but a span of this process still open in the record's trace
            # is named with its referral.
            name_trace(read.ids)
            return
        if read.impersonator is not None:
            writer = read.impersonator
            await self._refuse_impersonation(
                record, read, impersonation(message, writer=writer, topic=record.topic), writer
            )
            return
        with self._handling(read):
            await self._apply(record, read, read.handler)

    @contextlib.contextmanager
    def _handling(self, read: ReadRecord, *, start_time: int | None = None) -> Iterator[None]:
        """The span of the record's use case, about its referral (from ``start_time``, in ns
        since the epoch, when it began before)."""
        with (
            about_referral(read.ids),
            self._tracer.start_as_current_span(
                f"{self.service_name} handle {read.message.event.value}",
                kind=trace.SpanKind.CONSUMER,
                start_time=start_time,
            ) as span,
        ):
            span.set_attribute("messaging.message.id", read.message.message_id)
            yield

    async def apply_in(
        self,
        connection: Connection,
        record: ConsumerRecord[bytes, bytes],
        read: ReadRecord,
        *,
        own_transaction: bool = False,
    ) -> bool:
        """Applies a record read as plain (a handler of this service, no impersonation) in the
        caller's transaction, with the others fetched with it: records it in the inbox and
        runs its handler. False: a repeat, skipped. A refusal (``DomainError``) or any other
        error is the caller's: it rolls the whole transaction back and handles the records one
        by one (``handle``). ``own_transaction``: the only record of its batch with something to
        apply, applied as ``handle`` applies one (its one statement where it has one)."""
        if read.handler is None:
            name_trace(read.ids)
            return False
        with self._handling(read):
            entry = InboxEntry(read.message, record.topic, read.digest)
            claim = await claim_and_apply(
                connection,
                entry,
                handler=read.handler,
                one_statement=self._in_one_statement.get(read.message.event),
                own_transaction=own_transaction,
            )
            return applied(claim, entry)

    def applying_together(
        self, connection: Connection, messages: Sequence[FhirMessage]
    ) -> AbstractContextManager[None]:
        """Entered around applying ``messages`` (fetched together) in one transaction on
        ``connection``: the service's ``TogetherHook``, if it has one."""
        if self._applying_together is None:
            return contextlib.nullcontext()
        return self._applying_together(connection, messages)

    def applied_together(
        self, read: ReadRecord, entry: InboxEntry, claim: Claim, *, started_ns: int
    ) -> bool:
        """A record the service's ``StatementTogether`` applied with others: its span (from
        when the statement began) and whether it was applied (False: a repeat, skipped). A
        sender's id reused for other content is refused (rolls the batch back)."""
        with self._handling(read, start_time=started_ns):
            return applied(claim, entry)

    def committed(self, message: FhirMessage) -> None:
        """``message``'s effect committed: what the service does next (``after_commit``)."""
        if self._after_commit is not None:
            self._after_commit(message)

    async def _apply(
        self, record: ConsumerRecord[bytes, bytes], read: ReadRecord, handler: MessageHandler
    ) -> None:
        message = read.message
        entry = InboxEntry(message, record.topic, read.digest)
        try:
            async with self.pool.acquire() as connection:
                claim = await claim_and_apply(
                    connection,
                    entry,
                    handler=handler,
                    one_statement=self._in_one_statement.get(message.event),
                    own_transaction=True,
                )
            if not applied(claim, entry):
                return
        except DomainError as refused:
            await self._refuse(record, read, PermanentMessageError.of(refused))
        # Any other error goes on to the ConsumerGuard, which reads the record again or
        # dead-letters it.
        else:
            self.committed(message)

    async def _refuse(
        self, record: ConsumerRecord[bytes, bytes], read: ReadRecord, refused: PermanentMessageError
    ) -> None:
        """Answers the sender when this consumer knows how; dead-letters the message otherwise."""
        message = read.message
        if self._on_refused is None:
            await self.dead_letter(record, refused.reason)
            return
        log.warning("refused message %s: %s", message.message_id, refused.reason)
        async with self.pool.acquire() as connection, connection.transaction():
            # The refusal is the message's effect: a redelivery is not answered twice. A reused
            # id is answered every time: the id's own message keeps its place in the inbox.
            claim = await claim_message(
                connection, message=message, topic=record.topic, digest=read.digest
            )
            if claim is not Claim.REPEAT:
                await self._on_refused(connection, message, refused)

    async def _refuse_impersonation(
        self,
        record: ConsumerRecord[bytes, bytes],
        read: ReadRecord,
        refused: PermanentMessageError,
        writer: str,
    ) -> None:
        """Dead-letters a message sent in another's name and answers the hospital that wrote it,
        once. The dead letter is published inside the transaction that records the refusal: if
        it cannot be published nothing is recorded and the record is read again; a crash after
        the commit finds the refusal recorded when the record comes again."""
        message = read.message
        async with self.pool.acquire() as connection, connection.transaction():
            claim = await claim_message(
                connection,
                message=message,
                topic=record.topic,
                digest=read.digest,
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
            await publish_dead_letter(self.broker, record, reason=reason, group=self._group)
            return
        with self._tracer.start_as_current_span(
            f"{self.service_name} dead-letter {record.topic}",
            context=record_context(record.headers or ()),
            kind=trace.SpanKind.CONSUMER,
        ) as span:
            span.set_status(StatusCode.ERROR, reason)
            await publish_dead_letter(self.broker, record, reason=reason, group=self._group)
