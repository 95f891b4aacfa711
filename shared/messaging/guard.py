"""The outermost layer around every record a service consumes: nothing blocks a partition.

FastStream runs its own parsing, decoding and middlewares before the project's handler sees a
record, and with ``AckPolicy.NACK_ON_ERROR`` any exception there seeks back to the same offset:
a record that always fails would be read forever while everything behind it waits. This broker
middleware sees the outcome of all of it, whatever raised:

- the database or the broker is away (``shared.infrastructure``): the record is read again after
  a pause, for as long as the outage lasts;
- anything else (a bug, data the code cannot handle, a failure in the framework's parsing or a
  middleware): read again a few times, then dead-lettered with the reason and acknowledged, so
  the partition moves on.

It also tells ``PartitionProgress`` which records start and finish, for readiness.
"""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType
from typing import Any

from aiokafka import ConsumerRecord
from faststream import BaseMiddleware, ContextRepo
from faststream.exceptions import HandlerException
from faststream.kafka import KafkaBroker
from opentelemetry import trace

from shared.infrastructure import is_infrastructure_failure
from shared.messaging.dead_letters import publish_dead_letter
from shared.messaging.progress import PartitionProgress
from shared.tracing import record_context

log = logging.getLogger(__name__)

Position = tuple[str, int, int]


class ConsumerGuard:
    """Broker middleware factory; one per service, shared by all its subscribers."""

    def __init__(
        self,
        *,
        group: str,
        max_attempts: int,
        retry_backoff_s: float,
        progress: PartitionProgress,
        tracer: trace.Tracer | None = None,
    ) -> None:
        self.group = group
        self._tracer = tracer or trace.get_tracer(__name__)
        self.max_attempts = max_attempts
        self.retry_backoff_s = retry_backoff_s
        self.progress = progress
        self._broker: KafkaBroker | None = None
        # Failed attempts per record position (in memory: a restart gives a record its
        # attempts again, which only delays its dead letter).
        self._attempts: dict[Position, int] = {}

    def bind(self, broker: KafkaBroker) -> None:
        """The broker dead letters are published through (built after this guard)."""
        self._broker = broker

    def __call__(self, msg: Any, /, *, context: ContextRepo) -> _GuardedRecord:
        return _GuardedRecord(msg, context=context, guard=self)

    async def settle_failure(self, record: ConsumerRecord[bytes, bytes], error: Exception) -> bool:
        """Decides a failed attempt: True when the record was dead-lettered (acknowledge it),
        False when it is to be read again (after the pause). The decision is a span of the
        record's trace, with the retry or the dead letter as its event."""
        with self._tracer.start_as_current_span(
            f"{self.group} settle failure {record.topic}",
            context=record_context(record.headers or ()),
        ) as span:
            span.set_attribute("error.type", type(error).__name__)
            dead_lettered = await self._settle_failure(record, error)
            if not dead_lettered:
                span.add_event("retry scheduled", {"retry_in_s": self.retry_backoff_s})
            return dead_lettered

    async def _settle_failure(self, record: ConsumerRecord[bytes, bytes], error: Exception) -> bool:
        position = (record.topic, record.partition, record.offset)
        if is_infrastructure_failure(error):
            log.warning(
                "%s[%s]@%s: %s (database or broker away); reading it again",
                *position,
                type(error).__name__,
            )
            await asyncio.sleep(self.retry_backoff_s)
            return False
        attempts = self._attempts.pop(position, 0) + 1
        if attempts < self.max_attempts:
            self._attempts[position] = attempts
            log.error(
                "%s[%s]@%s failed (attempt %d of %d); reading it again",
                *position,
                attempts,
                self.max_attempts,
                exc_info=error,
            )
            await asyncio.sleep(self.retry_backoff_s)
            return False
        if self._broker is None:
            raise RuntimeError("ConsumerGuard.bind was not called")
        await publish_dead_letter(
            self._broker,
            record,
            reason=f"processing failed {attempts} times ({type(error).__name__}: {error}); "
            "replay it once the cause is fixed",
            group=self.group,
        )
        return True

    def succeeded(self, record: ConsumerRecord[bytes, bytes]) -> None:
        self._attempts.pop((record.topic, record.partition, record.offset), None)
        self.progress.finished(record.topic, record.partition, record.offset)


class _GuardedRecord(BaseMiddleware):
    def __init__(self, msg: Any, /, *, context: ContextRepo, guard: ConsumerGuard) -> None:
        super().__init__(msg, context=context)
        self.guard = guard

    def _record(self) -> ConsumerRecord[bytes, bytes] | None:
        record = self.msg
        return record if isinstance(record, ConsumerRecord) else None

    async def on_receive(self) -> None:
        record = self._record()
        if record is not None:
            self.guard.progress.started(record.topic, record.partition, record.offset)

    async def after_processed(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,
    ) -> bool | None:
        record = self._record()
        if record is None:
            return False
        if exc_val is None:
            self.guard.succeeded(record)
            return False
        if not isinstance(exc_val, Exception) or isinstance(exc_val, HandlerException):
            return False  # cancelled (the service is stopping), or FastStream's own ack/nack
        if await self.guard.settle_failure(record, exc_val):
            self.guard.succeeded(record)
            return True  # handled: acknowledged, the partition moves on
        return False
