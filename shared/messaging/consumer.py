"""Turns FHIR message handlers into Kafka subscribers with the platform's delivery guarantees.

For each record: parse and check the FHIR message (dead-letter it with the reason if it is not
one), skip it if no handler of this service wants its event, then, in one database transaction,
record it in the inbox and apply the handler (a redelivery finds it and has no second effect; a
sender's id reused for other content is refused). A handler raising ``PermanentMessageError``
dead-letters the message (or answers the sender with a refusal). Any other error rolls the
transaction back and the record is read again after a pause: indefinitely while the database or
network is away, a few times otherwise (then it is dead-lettered with the error's type, so one
bad record cannot block its partition).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

import asyncpg
from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from opentelemetry import trace

from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage, InvalidMessage, parse_message
from shared.messaging import headers
from shared.messaging.broker import CLINICAL_ACK_POLICY, consumer_group
from shared.messaging.inbox import Claim, claim_message, reused_id_reason
from shared.messaging.topics import Topic

log = logging.getLogger(__name__)

MAX_PROCESSING_ATTEMPTS = 5
# The database or the network is away: waiting is right, the message itself is fine.
INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.InterfaceError,
)

MessageHandler = Callable[[Connection, FhirMessage], Awaitable[None]]
# Answers a message that was refused (e.g. with a fatal-error response), in its own transaction.
RefusalHandler = Callable[[Connection, FhirMessage, "PermanentMessageError"], Awaitable[None]]


class PermanentMessageError(Exception):
    """A valid FHIR message that can never be applied; ``reason`` is safe to log and return.

    ``issue_code`` is the http://hl7.org/fhir/issue-type code for the sender's OperationOutcome,
    ``expression`` the FHIRPath of the element at fault (the same issue $process-message gives).
    """

    def __init__(
        self, reason: str, *, issue_code: str = "processing", expression: str | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.issue_code = issue_code
        self.expression = expression


class FhirMessageConsumer:
    def __init__(
        self,
        *,
        broker: KafkaBroker,
        pool: asyncpg.Pool,
        topic: Topic,
        service_name: str,
        handlers: Mapping[EventCode, MessageHandler],
        retry_backoff_s: float,
        after_commit: Callable[[FhirMessage], None] | None = None,
        on_refused: RefusalHandler | None = None,
        include_in_schema: bool = True,
    ) -> None:
        self._broker = broker
        self._pool = pool
        self._topic = topic
        self._group = consumer_group(service_name)
        self._handlers = dict(handlers)
        self._retry_backoff_s = retry_backoff_s
        self._after_commit = after_commit
        self._on_refused = on_refused
        # Listed in the service's AsyncAPI document (GET /asyncapi.json)?
        self._include_in_schema = include_in_schema
        # Failed attempts per record position, for records that fail for other than
        # infrastructure reasons (in memory: after a restart a record gets its attempts again).
        self._attempts: dict[tuple[str, int, int], int] = {}

    def subscribe(self) -> None:
        @self._broker.subscriber(
            self._topic.name,
            group_id=self._group,
            ack_policy=CLINICAL_ACK_POLICY,
            # A new service reads what was published before it first joined.
            auto_offset_reset="earliest",
            title=f"{self._group}:{self._topic.name}",
            description=self._topic.description,
            include_in_schema=self._include_in_schema,
        )
        async def consume(message: KafkaMessage) -> None:
            await self.handle(message.raw_message)

    async def handle(self, record: ConsumerRecord[bytes, bytes]) -> None:
        value = record.value or b""
        try:
            message = parse_message(value)
        except InvalidMessage as invalid:
            await self.dead_letter(record, invalid.reason)
            return
        handler = self._handlers.get(message.event)
        if handler is None:
            return  # another service's event on a shared topic: not ours to apply
        try:
            async with self._pool.acquire() as connection, connection.transaction():
                claim = await claim_message(connection, message=message, topic=self._topic.name)
                if claim is Claim.REUSED_ID:
                    raise PermanentMessageError(reused_id_reason(message), issue_code="duplicate")
                if claim is Claim.REPEAT:
                    log.info("duplicate message %s skipped", message.message_id)
                    return
                await handler(connection, message)
        except PermanentMessageError as refused:
            await self._refuse(record, message, refused)
        except Exception as error:
            if self._gives_up(record, error):
                await self.dead_letter(
                    record,
                    f"processing failed {MAX_PROCESSING_ATTEMPTS} times "
                    f"({type(error).__name__}); replay it once the cause is fixed",
                )
                return
            log.exception(
                "failure on message %s (%s); it will be read again",
                message.message_id,
                message.event.value,
            )
            await asyncio.sleep(self._retry_backoff_s)
            raise
        else:
            self._attempts.pop((record.topic, record.partition, record.offset), None)
            if self._after_commit is not None:
                self._after_commit(message)

    def _gives_up(self, record: ConsumerRecord[bytes, bytes], error: Exception) -> bool:
        """Infrastructure failures are retried for as long as they last; any other error (a
        bug, data the code cannot handle) stops blocking the partition after a few attempts."""
        if isinstance(error, INFRASTRUCTURE_ERRORS):
            return False
        position = (record.topic, record.partition, record.offset)
        attempts = self._attempts.pop(position, 0) + 1
        if attempts >= MAX_PROCESSING_ATTEMPTS:
            return True
        self._attempts[position] = attempts
        return False

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
            claim = await claim_message(connection, message=message, topic=self._topic.name)
            if claim is not Claim.REPEAT:
                await self._on_refused(connection, message, refused)

    async def dead_letter(self, record: ConsumerRecord[bytes, bytes], reason: str) -> None:
        log.warning(
            "dead-lettering %s[%s]@%s: %s", record.topic, record.partition, record.offset, reason
        )
        trace.get_current_span().add_event("dead-lettered", {"reason": reason})
        original = {name: value.decode(errors="replace") for name, value in record.headers or ()}
        original.pop("traceparent", None)
        original.pop("tracestate", None)
        await self._broker.publish(
            record.value or b"",
            self._topic.dead_letter,
            key=record.key,
            headers={
                **original,
                headers.DEAD_LETTER_REASON: reason,
                headers.DEAD_LETTER_SOURCE: f"{record.topic}/{record.partition}/{record.offset}",
                headers.DEAD_LETTER_CONSUMER: self._group,
            },
        )
