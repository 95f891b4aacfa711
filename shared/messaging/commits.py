"""Consumer offsets committed every so often, never before the record's handling committed.

With ``AckPolicy.NACK_ON_ERROR`` FastStream acknowledges a record once its handler returned
(the inbox claim and the effect committed in one transaction) by committing the consumer's
offsets: a commit request per record, each writing one record per assigned partition to
``__consumer_offsets`` (issue 14 counted 27 of them per referral for its 7 Kafka records). Here
the acknowledgement only notes the record's next offset; what was noted is committed in one
request ``interval_s`` later (the acknowledgements in between join it) and before the
partitions go to another member in a rebalance. A crash or a stop forgets at most the last
interval's notes: those records are read again, and the inbox finds them (no second effect).

Hand-written because neither library does this: aiokafka's auto-commit commits the consumer's
position, which moves when a record is *returned* to the handler, so it can commit a record
still being handled (lost if the process dies then); FastStream's batch subscribers commit once
per fetched batch, but sleep a whole batch timeout after every empty poll (latency on the
page's path) and retry or dead-letter a whole batch where one record failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from faststream.message import StreamMessage

log = logging.getLogger(__name__)

# A failed commit is tried again after this long at the least (also without an interval).
MIN_RETRY_S = 1.0


class PeriodicCommits:
    """The offsets one subscriber's records were handled to, committed every ``interval_s``
    (0: at each acknowledgement, for the record's partition only)."""

    def __init__(self, *, interval_s: float) -> None:
        self._interval_s = interval_s
        self._consumer: AIOKafkaConsumer | None = None
        self._noted: dict[TopicPartition, int] = {}
        # What this consumer committed per partition since it got it: a note at or below it is
        # done (the records a batch took behind a first one are noted and may be committed
        # before the first's own acknowledgement, which would move the commit back).
        self._committed: dict[TopicPartition, int] = {}
        self._committing: asyncio.Task[None] | None = None
        self.listener = _CommitBeforeRevocation(self)

    def acknowledge_by_noting(self, message: StreamMessage[Any]) -> None:
        """Makes FastStream's acknowledgement of ``message`` (a single record read by an
        aiokafka consumer) note the record's offset instead of committing at once."""
        record, consumer = message.raw_message, getattr(message, "consumer", None)
        if isinstance(record, ConsumerRecord) and isinstance(consumer, AIOKafkaConsumer):
            message.consumer = _NotingAcknowledgement(self, consumer, record)  # type: ignore[attr-defined]

    async def note(self, consumer: AIOKafkaConsumer, record: ConsumerRecord[Any, Any]) -> None:
        """``record`` was handled (its transaction committed, or it was dead-lettered)."""
        if consumer is not self._consumer:
            # A subscriber restarted with a new consumer: the old one's notes cannot be
            # committed any more (their records are read again from the last commit).
            self._consumer, self._noted, self._committed = consumer, {}, {}
        partition = TopicPartition(record.topic, record.partition)
        if record.offset + 1 <= self._committed.get(partition, 0):
            return
        self._noted[partition] = max(self._noted.get(partition, 0), record.offset + 1)
        if self._interval_s <= 0:
            await self.commit_noted()
        elif self._committing is None or self._committing.done():
            self._committing = asyncio.create_task(self._commit_later())

    async def _commit_later(self, delay_s: float | None = None) -> None:
        await asyncio.sleep(self._interval_s if delay_s is None else delay_s)
        await self.commit_noted()

    async def commit_noted(self) -> None:
        """Commits the notes of the partitions this consumer holds. A note stays until its
        commit succeeds or its partition is handed on in a rebalance (``forget``): a note
        dropped while its partition stays here would never be committed, since the records
        before it are not read again (the group's lag would stay above zero)."""
        consumer = self._consumer
        if consumer is None or not self._noted:
            return
        assigned = consumer.assignment()
        offsets = {
            partition: offset for partition, offset in self._noted.items() if partition in assigned
        }
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except Exception as error:  # the broker away, or a rebalance under way: kept
            log.warning("offset commit failed (%s); trying again later", error)
            # Also when this very commit is the interval's task, which is not done yet: no
            # retry then left the last record uncommitted until another came (a lag of 1).
            committing = self._committing
            if committing is None or committing.done() or committing is asyncio.current_task():
                retry_s = max(self._interval_s, MIN_RETRY_S)
                self._committing = asyncio.create_task(self._commit_later(retry_s))
            return
        for partition, offset in offsets.items():
            self._committed[partition] = max(self._committed.get(partition, 0), offset)
            if self._noted.get(partition) == offset:  # nothing newer noted meanwhile
                del self._noted[partition]
        # Records handled while this commit was in flight found a commit planned and planned
        # none: the next interval's takes them (else they stayed uncommitted until another
        # record came, and on a quiet partition the group's lag stayed above zero).
        if any(partition in assigned for partition in self._noted):
            committing = self._committing
            if committing is None or committing.done() or committing is asyncio.current_task():
                self._committing = asyncio.create_task(self._commit_later())

    async def commit_at_shutdown(self) -> None:
        """The last commit, before the broker stops, and none planned after it: once the broker
        stopped, a planned commit (a retry of a failed one) would go through a closed consumer,
        which aiokafka tries again every 100 ms for as long as the process lives when the topic
        is gone (the test suite's shared event loop carried such leftovers from test to test).
        What it could not commit is read again after a restart, and the inbox finds it."""
        await self.commit_noted()
        await self.stop()

    def forget(self, partitions: Iterable[TopicPartition]) -> None:
        """Drops the notes of ``partitions`` after a rebalance: the member that holds them now
        (this one too) reads them from their last commit, and notes again what it handles."""
        for partition in partitions:
            self._noted.pop(partition, None)
            self._committed.pop(partition, None)

    async def stop(self) -> None:
        if self._committing is not None:
            self._committing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._committing


class _NotingAcknowledgement:
    """What FastStream's Kafka message calls to acknowledge (``commit``) or to read a record
    again (``seek``): faststream.kafka.message.ConsumerProtocol."""

    def __init__(
        self, commits: PeriodicCommits, consumer: AIOKafkaConsumer, record: ConsumerRecord[Any, Any]
    ) -> None:
        self._commits = commits
        self._consumer = consumer
        self._record = record

    async def commit(self) -> None:
        await self._commits.note(self._consumer, self._record)

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self._consumer.seek(partition, offset)


class _CommitBeforeRevocation(ConsumerRebalanceListener):  # type: ignore[misc]
    """Commits what was handled before a rebalance hands the partitions to another member, so
    it does not read them again."""

    def __init__(self, commits: PeriodicCommits) -> None:
        self._commits = commits

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await self._commits.commit_noted()
        self._commits.forget(revoked)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        # A record handled during the rebalance may have been noted since: its partition is
        # read again from its last commit (by this member or another).
        self._commits.forget(assigned)
