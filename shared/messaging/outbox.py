"""Transactional outbox: an event is a row written in the same transaction as the state change.

``add_to_outbox`` is called inside the handler's transaction. ``OutboxRelay`` publishes unsent rows
in order, one key's rows strictly one after another so a referral's events keep their order, and
re-creates the trace context that was current when the row was written, so the trace continues
across the hop. Hand-written because the outbox libraries for FastStream do not keep per-key order
and trace context together; it is small.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from typing import Any

import asyncpg
from faststream.kafka import KafkaBroker
from opentelemetry import context, propagate, trace
from opentelemetry.instrumentation.utils import suppress_instrumentation

from shared.db.pool import Connection, takes_session_state
from shared.fhir.envelope import FhirMessage
from shared.fhir.models import FHIR_JSON, FHIR_VERSION
from shared.messaging import headers
from shared.messaging.topics import Topic
from shared.tracing import ReferralIds, baggage_headers
from shared.workers import BackgroundTask

log = logging.getLogger(__name__)


async def add_to_outbox(
    connection: Connection, *, topic: Topic, key: str, message: FhirMessage
) -> None:
    """Queues ``message`` for publication; must run inside the caller's transaction.

    Writers for one key take turns (a transaction-scoped advisory lock on the key), so two
    transactions writing about one referral at once number its events one after the other
    instead of colliding on the same sequence number.
    """
    trace_context: dict[str, str] = {}
    # The key is the referral's id: the publication and whatever follows carry it (and the
    # hospitals the message goes between) in the stored baggage.
    ids = ReferralIds.of(key, (message.sender, *message.destinations))
    propagate.inject(trace_context, context=ReferralIds.from_baggage().merged(ids).in_baggage())
    await connection.execute("SELECT pg_advisory_xact_lock(hashtext('outbox:' || $1))", key)
    await connection.execute(
        """
        INSERT INTO outbox (message_id, topic, message_key, event_code, sequence, payload,
                            trace_context)
        VALUES ($1, $2, $3, $4,
                (SELECT coalesce(max(sequence), 0) + 1 FROM outbox WHERE message_key = $3),
                $5, $6)
        """,
        message.message_id,
        topic.name,
        key,
        message.event.value,
        message.to_json(),
        trace_context,
    )
    # The table's trigger sends NOTIFY outbox_<schema> at commit, waking the relay.


class OutboxRelay(BackgroundTask):
    """Publishes the outbox to Kafka; one active relay per service (a PostgreSQL advisory lock)."""

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        broker: KafkaBroker,
        producer_name: str,
        schema: str,
        tracer: trace.Tracer,
        poll_interval_s: float = 1.0,
        batch_size: int = 200,
    ) -> None:
        super().__init__()
        self._pool = pool
        self._broker = broker
        self._producer_name = producer_name
        self._channel = f"outbox_{schema}"
        self._tracer = tracer
        self._poll_interval_s = poll_interval_s
        self._batch_size = batch_size
        self._wake = asyncio.Event()
        self.name = f"outbox-relay-{producer_name}"

    async def run(self) -> None:
        while True:
            try:
                await self._lead()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay failed; restarting in %.1f s", self._poll_interval_s)
                await asyncio.sleep(self._poll_interval_s)

    async def _lead(self) -> None:
        async with self._pool.acquire() as leader:
            # Only one instance of a service publishes, so a key's rows never race each other.
            channel = self._channel
            takes_session_state(leader)
            await leader.execute("SELECT pg_advisory_lock(hashtext($1))", channel)
            with suppress_instrumentation():
                await leader.add_listener(channel, self._on_notify)
            try:
                while True:
                    while await self.publish_pending() == self._batch_size:
                        pass
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._poll_interval_s)
                    self._wake.clear()
            finally:
                with contextlib.suppress(Exception):
                    await leader.remove_listener(channel, self._on_notify)
                    await leader.execute("SELECT pg_advisory_unlock(hashtext($1))", channel)

    def _on_notify(self, *_: Any) -> None:
        self._wake.set()

    async def publish_pending(self) -> int:
        """Publishes one batch of unsent rows; returns how many it published.

        The relay's own queries are not traced (a poll would start a new trace every second);
        each publication continues the trace of the change that wrote the row.
        """
        with suppress_instrumentation():
            return await self._publish_batch()

    async def _publish_batch(self) -> int:
        async with self._pool.acquire() as connection, connection.transaction():
            rows = await connection.fetch(
                """
                SELECT id, message_id, topic, message_key, event_code, sequence, payload,
                       trace_context
                FROM outbox WHERE published_at IS NULL
                ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
                """,
                self._batch_size,
            )
            if not rows:
                return 0
            by_key: dict[str, list[asyncpg.Record]] = defaultdict(list)
            for row in rows:
                by_key[row["message_key"]].append(row)
            # Keys in parallel, each key's rows in order. If anything fails, the transaction
            # rolls back and the batch is sent again: consumers de-duplicate by message id.
            await asyncio.gather(
                *(self._publish_in_order(key_rows) for key_rows in by_key.values())
            )
            await connection.execute(
                "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])",
                [row["id"] for row in rows],
            )
            return len(rows)

    async def _publish_in_order(self, rows: list[asyncpg.Record]) -> None:
        for row in rows:
            # Attached, not only made the span's parent: the publication carries the stored
            # baggage (the referral's ids, shared.tracing) on to the consumers.
            stored = context.attach(propagate.extract(row["trace_context"], context.get_current()))
            try:
                await self._publish_row(row)
            finally:
                context.detach(stored)

    async def _publish_row(self, row: asyncpg.Record) -> None:
        with self._tracer.start_as_current_span(
            f"outbox publish {row['topic']}", kind=trace.SpanKind.PRODUCER
        ) as span:
            span.set_attribute("messaging.message.id", row["message_id"])
            await self._broker.publish(
                bytes(row["payload"]),
                row["topic"],
                key=row["message_key"].encode(),
                headers={
                    headers.MESSAGE_ID: row["message_id"],
                    headers.EVENT_CODE: row["event_code"],
                    headers.SEQUENCE: str(row["sequence"]),
                    headers.PRODUCER: self._producer_name,
                    headers.FHIR_VERSION: FHIR_VERSION,
                    headers.CONTENT_TYPE: FHIR_JSON,
                    **baggage_headers(),
                },
            )
