"""The outbox's relay: ``OutboxRelay`` publishes the rows ``add_to_outbox`` wrote
(shared/messaging/outbox.py) in the order they were written, and numbers each key's events as it
publishes them (the ``sequence`` header, per key increasing by one, so a gap is a lost message).
Only one relay per service publishes (a session advisory lock), so the numbering needs no lock
on the writers' side: a writer's row is numbered when it becomes visible to the relay, after the
rows of the key it could have read (causally earlier events were committed before it was
written, so they have smaller ids and are published first).

A batch is sent without waiting for each record: aiokafka queues records per partition, sends
one request per partition at a time and, with the idempotent producer, retries without
reordering; the relay then waits for all of them, and marks the batch published in the
statement that claims the next one. Each record carries the trace context stored with its row
(``traceparent`` naming the span that wrote it, and the referral's ids), so the trace continues
across the hop: the next service's handling is a child of the use case that wrote the event.
The relay makes no span of its own (see ``OutboxRelay``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from aiokafka.structs import RecordMetadata
from asyncpg.pool import PoolConnectionProxy
from faststream.kafka import KafkaBroker, KafkaPublishCommand
from faststream.response import PublishType
from opentelemetry.instrumentation.utils import suppress_instrumentation

from shared.db.pool import Connection, takes_session_state, wake_after_outbox_commit
from shared.fhir.models import FHIR_JSON, FHIR_VERSION
from shared.messaging import headers
from shared.messaging.broker import PRODUCER_STOPPING_ERRORS, replace_producer
from shared.messaging.outbox_leader import name_the_leader
from shared.tracing import relayed_trace_headers
from shared.workers import ScheduledTask

# One statement a round: it marks the batch the round before sent (its rows' ids, numbers and
# the time the broker took them; nothing when none waits) and returns the next unsent rows in
# the order they were written, each with its number in its key's sequence: the key's last
# number plus its rank among the key's rows waiting here. The marked rows' new numbers are not
# yet visible to the statement's own reads, so the last number counts them from the arrays.
# Rows written before numbering moved to the relay keep their number.
_MARK_SENT_AND_CLAIM_NEXT = """
WITH marked AS (
    UPDATE outbox SET published_at = $4, sequence = sent.sequence
    FROM unnest($2::bigint[], $3::bigint[]) AS sent (id, sequence)
    WHERE outbox.id = sent.id
    RETURNING outbox.message_key, sent.sequence
), batch AS (
    SELECT id, message_id, topic, message_key, event_code, sequence, payload, trace_context
    FROM outbox WHERE published_at IS NULL AND id <> ALL ($2::bigint[])
    ORDER BY id LIMIT $1
)
SELECT batch.id, batch.message_id, batch.topic, batch.message_key, batch.event_code,
       batch.payload, batch.trace_context,
       coalesce(
           batch.sequence,
           last.sequence + row_number() OVER (
               PARTITION BY batch.message_key, batch.sequence IS NULL ORDER BY batch.id
           )
       ) AS sequence
FROM batch
CROSS JOIN LATERAL (
    SELECT greatest(
        (SELECT coalesce(max(numbered.sequence), 0)
         FROM outbox numbered WHERE numbered.message_key = batch.message_key),
        (SELECT coalesce(max(marked.sequence), 0)
         FROM marked WHERE marked.message_key = batch.message_key)
    ) AS sequence
) AS last
ORDER BY batch.id
"""


@dataclass(frozen=True)
class _SentBatch:
    """Rows the broker took and the outbox does not say so yet: marked by the next round."""

    ids: list[int]
    sequences: list[int]
    at: datetime | None

    @classmethod
    def none(cls) -> _SentBatch:
        return cls([], [], None)


class OutboxRelay(ScheduledTask):
    """Publishes the outbox to Kafka; one active relay per service (a PostgreSQL advisory lock,
    held on a connection of its own while it leads).

    It sleeps until a commit that wrote rows wakes it: its own pool's, after the commit, or
    another process's NOTIFY (shared/messaging/outbox_leader.py), handed on by the process's
    listener (``DatabaseNotices``, wired to ``notice`` on ``channel``), which also wakes it
    whenever it (re)connects. The re-check a minute after its last round covers a lost
    listener. A failed round is logged and tried again after ``retry_s``.

    No span per record, nor per batch. A record's publication span (``outbox publish <topic>``,
    between the use case that wrote the row and the next service's handling) was a third of a
    referral's spans, and with its context read and written per record about 2 % of each
    service's samples; it ended when the record was queued, before the broker answered, so it
    never held a failure either. A span per batch would be a trace of its own for each round
    (a batch holds many referrals' rows; Zipkin shows no links), found by no referral id. The
    gap between the writing span and the handling is the time in the outbox and in Kafka;
    ``fasttrack_outbox_oldest_unpublished_age_seconds`` and the consumer lag tell which.

    A batch the broker took is marked published by the next round's statement, the one that
    claims the next batch (one statement a round, not a claim and a mark), or ``mark_within_s``
    after it when no round comes sooner, and when the relay stops. A relay that dies before
    that leaves the batch to the next leader, which sends it again with the same numbers (as
    one that died between sending and marking always did): the consumers' inboxes drop the
    repeats. So does a mark that PostgreSQL lost in a crash: the leader's rounds commit without
    waiting for the disk (``_lead``). Meanwhile the backlog metric counts the batch as unsent,
    and its ``published_at`` is the time the broker took it, not the time it was marked."""

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        broker: KafkaBroker,
        producer_name: str,
        schema: str,
        retry_s: float = 1.0,
        recheck_s: float = 60.0,
        batch_size: int = 200,
        mark_within_s: float = 1.0,
    ) -> None:
        super().__init__(retry_s=retry_s, recheck_s=recheck_s)
        wake_after_outbox_commit(pool, self.notice)
        self._mark_within_s = mark_within_s
        self._sent = _SentBatch.none()
        self._pool = pool
        self._broker = broker
        self._producer_name = producer_name
        self.channel, self._schema = f"outbox_{schema}", schema
        self._batch_size = batch_size
        self._leader: PoolConnectionProxy | None = None
        self.name = f"outbox-relay-{producer_name}"
        self._fixed_headers = {
            headers.PRODUCER: producer_name,
            headers.FHIR_VERSION: FHIR_VERSION,
            headers.CONTENT_TYPE: FHIR_JSON,
        }

    async def tick(self) -> None:
        await self._lead()
        while await self.publish_pending() == self._batch_size:
            pass

    async def next_due(self) -> float | None:
        # Everything written before the round was sent; what commits later NOTIFYs. A batch
        # sent and not marked yet is marked by a round this soon at the latest.
        return time.time() + self._mark_within_s if self._sent.ids else None

    async def _lead(self) -> None:
        """Takes the service's relay lock unless it holds it: a second instance waits here until
        the leader's connection ends (its process stopped; its connection lost: retaken next)."""
        if self._leading():
            return
        await self._resign()
        leader = await self._pool.acquire()
        try:
            takes_session_state(leader)
            with suppress_instrumentation():
                await leader.execute("SELECT pg_advisory_lock(hashtext($1))", self.channel)
                # The rounds run on this connection, with three settings of its own (the
                # pool's full reset, RESET ALL, ends them):
                # - a generic plan: PostgreSQL planned the round again at every call for its
                #   arrays (0.45-0.87 plans per call in the benchmark). Not pool-wide: a generic
                #   plan loses the partial indexes that a statement's parameters select;
                # - no sequential scans: that plan is made at the lead's first round, and on a
                #   young outbox (a few rows, no statistics) it joined the batch to a scan of
                #   the whole table, kept as published rows filled it until an ANALYZE;
                # - asynchronous commit: a round writes only its marks, and a mark lost with
                #   PostgreSQL's last commits in a crash (the end of the WAL only, so a key's
                #   marks from its last one back) is a batch sent again with the same numbers,
                #   which the consumers drop, as after a relay that dies before its deferred
                #   mark. Each round waited for a flush to disk before its rows could go out.
                await leader.execute(
                    "SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off;"
                    " SET synchronous_commit = off"
                )
                await name_the_leader(leader, schema=self._schema)
        except BaseException:
            await self._pool.release(leader)
            raise
        self._leader = leader

    def _leading(self) -> bool:
        if self._leader is None:
            return False
        try:
            return not self._leader.is_closed()
        except asyncpg.InterfaceError:
            return False  # the pool took the connection back when it was lost

    async def _resign(self) -> None:
        # What it sent and did not mark is the next leader's to send again (it may be leading
        # already, and have sent and marked it).
        self._sent = _SentBatch.none()
        leader, self._leader = self._leader, None
        if leader is None:
            return
        with contextlib.suppress(Exception):
            if not leader.is_closed():
                with suppress_instrumentation():
                    await leader.execute("SELECT pg_advisory_unlock(hashtext($1))", self.channel)
            await self._pool.release(leader)

    async def stop(self) -> None:
        await super().stop()
        if self._leading():
            with contextlib.suppress(Exception):  # else the next leader sends it again
                await self.mark_sent()
        await self._resign()

    async def mark_sent(self) -> None:
        """Marks the batch the last round sent, claiming nothing."""
        with suppress_instrumentation():
            async with self._round_connection() as connection:
                await self._mark_sent_and_claim(connection, limit=0)

    @contextlib.asynccontextmanager
    async def _round_connection(self) -> AsyncIterator[Connection]:
        """The lead's own connection while it leads (no pool round per round); else, as a
        round called on its own is, one from the pool."""
        leader = self._leader
        if leader is not None and self._leading():
            yield leader
            return
        async with self._pool.acquire() as connection:
            yield connection

    async def publish_pending(self) -> int:
        """Publishes one batch of unsent rows; returns how many it published.

        The relay's own queries are not traced (a poll would start a new trace every second);
        each publication continues the trace of the change that wrote the row.
        """
        with suppress_instrumentation():
            return await self._publish_batch()

    async def _publish_batch(self) -> int:
        # No transaction: only the leading relay reads and marks the outbox, so one statement a
        # round. Were two relays ever to overlap, each would send the rows in order and the
        # consumers would drop the repeats, where row locks would have let one send a key's
        # later rows first.
        async with self._round_connection() as connection:
            rows = await self._mark_sent_and_claim(connection, limit=self._batch_size)
        if not rows:
            return 0
        # Every record is queued in the order written (a key's records go to one partition, in
        # that order); then the relay waits for the broker's answers. If any fails, nothing is
        # marked and the batch is sent again: consumers de-duplicate by message id.
        try:
            deliveries = [await self._queue_row(row) for row in rows]
            outcomes = await asyncio.gather(*deliveries, return_exceptions=True)
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    raise outcome
        except PRODUCER_STOPPING_ERRORS:
            # The producer will never send again: the next round sends through a new one.
            await replace_producer(self._broker)
            raise
        self._sent = _SentBatch(
            ids=[row["id"] for row in rows],
            sequences=[row["sequence"] for row in rows],
            at=datetime.now(UTC),
        )
        return len(rows)

    async def _mark_sent_and_claim(
        self, connection: Connection, *, limit: int
    ) -> list[asyncpg.Record]:
        sent = self._sent
        rows: list[asyncpg.Record] = await connection.fetch(
            _MARK_SENT_AND_CLAIM_NEXT, limit, sent.ids, sent.sequences, sent.at
        )
        if self._sent is sent:  # marked (a relay that resigned meanwhile forgot it)
            self._sent = _SentBatch.none()
        return rows

    async def _queue_row(self, row: asyncpg.Record) -> asyncio.Future[RecordMetadata]:
        record_headers = {
            headers.MESSAGE_ID: row["message_id"],
            headers.EVENT_CODE: row["event_code"],
            headers.SEQUENCE: str(row["sequence"]),
            **self._fixed_headers,
            # The trace of the change that wrote the row, continued by the next service's
            # handling (whose parent is the span that wrote it), and the referral's ids.
            **relayed_trace_headers(row["trace_context"]),
        }
        # Straight to the broker's producer (FastStream's own, the same aiokafka producer and
        # the same idempotence): not through the broker's middlewares, which per record built a
        # consumer guard and a telemetry middleware, two no-op spans and a publish-duration
        # measurement of a send not waited for; most of the relay's cost per record.
        future: asyncio.Future[RecordMetadata] = await self._broker.config.producer.publish(
            KafkaPublishCommand(
                bytes(row["payload"]),
                topic=row["topic"],
                key=row["message_key"].encode(),
                headers=record_headers,
                correlation_id=row["message_id"],
                no_confirm=True,
                _publish_type=PublishType.PUBLISH,
            )
        )
        return future
