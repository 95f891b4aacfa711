"""Two notifiers applying records fetched together to the same two hospitals, in opposite
orders, at once: each batch is one transaction whose statements take the hospitals' feed locks
(the live events on their pages). Taken record by record, the first batch held hospital A's and
waited for B's while the second held B's and waited for A's, until PostgreSQL aborted one
(deadlock_timeout, 1 s): that batch was rolled back and applied record by record, its pages a
second late and an ERROR in the database's log. Now the first statement of a batch that takes a
feed lock takes all of the batch's, in one order: the second batch waits for the first's commit
and both are applied together.

The two batches are interleaved by a gate after each batch's first record: it goes on once the
other batch has applied its first record too, or waits for a lock.

An alert acknowledged by its link while a batch answers it (the hospital answered it on the
board) is the same wait the other way round: the link's transaction held the delivery's row and
waited for the hospital's feed lock, which the batch took first and then waited for the row.
The acknowledgement now takes the feed lock before the row."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, cast

import asyncpg
import pytest
from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker

from services.notifier.adapters.in_app import ACKNOWLEDGED, NOTIFICATION
from services.notifier.entrypoints.consumers import wire_consumers
from services.notifier.service.acknowledgements import acknowledge
from services.notifier.service.handlers import accept_notification_request
from shared.db.pool import Connection
from shared.fhir.answered_alerts import AnsweredAlerts, answered_alerts_message
from shared.fhir.envelope import FhirMessage
from shared.messaging.consumer import FhirMessageConsumer
from shared.messaging.record_reading import ReadRecord
from shared.messaging.service_consumer import ServiceConsumer
from shared.messaging.topics import NOTIFICATION_REQUESTS
from tests.integration.notifier_use_cases.support import (
    CONTACTS,
    HOSPITAL,
    OTHER_HOSPITAL,
    dispatcher_on,
    new_referral,
    stroke_alert,
)
from tests.support import eventually
from tests.use_case_database import CountedPool
from tests.wired_consumers import WiredConsumers, relayed_record

Batch = list[ConsumerRecord[bytes, bytes]]


@contextlib.asynccontextmanager
async def _notifier_consumer(counted: CountedPool) -> AsyncIterator[FhirMessageConsumer]:
    """The notifier's consumer of its requests topic, as ``wire_consumers`` builds it."""
    async with counted.pool.acquire() as connection:
        wired = WiredConsumers(connection, service_name="notifier")
        wire_consumers(wired, dispatcher_on(counted.pool, {}), CONTACTS)  # type: ignore[arg-type]
        yield wired.subscribed(NOTIFICATION_REQUESTS)


def _batch_reader(pool: asyncpg.Pool, consumer: FhirMessageConsumer) -> ServiceConsumer:
    """The notifier's consumer of records fetched together, without Kafka (its batches are
    handed to ``_apply_together`` directly)."""
    reader = ServiceConsumer(
        broker=cast(KafkaBroker, None),
        pool=pool,
        service_name="notifier",
        fetch_max_wait_ms=500,
        commit_interval_s=0.0,
    )
    reader.add(consumer)
    return reader


def _record(message: FhirMessage, referral_id: str) -> ConsumerRecord[bytes, bytes]:
    return relayed_record(NOTIFICATION_REQUESTS, message, key=referral_id)


def _request(to: str) -> ConsumerRecord[bytes, bytes]:
    referral_id = new_referral()
    return _record(stroke_alert(referral_id, to=to), referral_id)


async def _answer(
    counted: CountedPool, hospital: str, referral_id: str | None = None
) -> ConsumerRecord[bytes, bytes]:
    """The hospital answered, on the clinicians' board, its alert about a referral (accepted
    and committed before, unless ``referral_id`` names one): acknowledging it writes to the
    hospital's feed."""
    if referral_id is None:
        referral_id = new_referral()
        async with counted.pool.acquire() as connection:
            await accept_notification_request(
                connection, stroke_alert(referral_id, to=hospital), contacts=CONTACTS
            )
    answered = AnsweredAlerts(
        referral_id=referral_id,
        hospital_id=hospital,
        acknowledged_by="Dr Board",
        at=datetime.now(UTC),
    )
    return _record(answered_alerts_message(answered, source_endpoint="urn:test"), referral_id)


async def _applied_at_once(
    counted: CountedPool, consumer: FhirMessageConsumer, batches: tuple[Batch, Batch]
) -> list[bool]:
    """Whether each batch was applied together (False: rolled back), the two applied at once
    by a service consumer each, interleaved after their first records."""
    firsts = [batch[0].value for batch in batches]
    first_applied = [asyncio.Event(), asyncio.Event()]
    pids: dict[int, int] = {}
    apply_in = consumer.apply_in

    async def waits_for_a_lock(batch: int) -> bool:
        pid = pids.get(batch)
        return pid is not None and await counted.pool.fetchval(
            "SELECT EXISTS (SELECT FROM pg_locks WHERE pid = $1 AND NOT granted)", pid
        )

    async def gated(
        connection: Connection, record: ConsumerRecord[bytes, bytes], read: ReadRecord, **kw: Any
    ) -> bool:
        if record.value not in firsts:
            return await apply_in(connection, record, read, **kw)
        batch = firsts.index(record.value)
        pids[batch] = connection.get_server_pid()
        applied = await apply_in(connection, record, read, **kw)
        first_applied[batch].set()
        other = 1 - batch

        async def other_went_on() -> bool | None:
            return first_applied[other].is_set() or await waits_for_a_lock(other) or None

        await eventually(other_went_on, timeout=20, what="the other batch's first record")
        return applied

    consumer.apply_in = gated  # type: ignore[method-assign]
    readers = []
    for _ in batches:
        readers.append(_batch_reader(counted.pool, consumer))
    try:
        return list(
            await asyncio.gather(
                *(
                    reader._apply_together(batch)
                    for reader, batch in zip(readers, batches, strict=True)
                )
            )
        )
    finally:
        consumer.apply_in = apply_in  # type: ignore[method-assign]


async def _on_pages(counted: CountedPool, batches: tuple[Batch, Batch]) -> set[tuple[str, str]]:
    """(referral, kind) of the live events about the batches' referrals."""
    keys = [(record.key or b"").decode() for batch in batches for record in batch]
    rows = await counted.pool.fetch(
        "SELECT DISTINCT payload ->> 'referral' AS referral, kind FROM live_event"
        " WHERE payload ->> 'referral' = ANY($1::text[])",
        keys,
    )
    return {(row["referral"], row["kind"]) for row in rows}


@pytest.mark.parametrize("first_kind", ["request", "answer"])
async def test_batches_over_two_hospitals_in_opposite_orders_are_both_applied_together(
    counted: CountedPool, first_kind: str
) -> None:
    """Each batch: a record for one hospital's pages (a request, or an answer of its alert),
    then a request to the other's."""

    async def first(hospital: str) -> ConsumerRecord[bytes, bytes]:
        return _request(hospital) if first_kind == "request" else await _answer(counted, hospital)

    batches = (
        [await first(HOSPITAL), _request(OTHER_HOSPITAL)],
        [await first(OTHER_HOSPITAL), _request(HOSPITAL)],
    )
    async with _notifier_consumer(counted) as consumer:
        applied = await _applied_at_once(counted, consumer, batches)

    # Was [True, False] (or [False, True]): one batch aborted as a deadlock and rolled back.
    assert applied == [True, True]
    # Every alert on its hospital's pages; an answered one shown acknowledged.
    referrals = [(record.key or b"").decode() for batch in batches for record in batch]
    answered = [(batch[0].key or b"").decode() for batch in batches if first_kind == "answer"]
    assert await _on_pages(counted, batches) == {
        *((referral, NOTIFICATION) for referral in referrals),
        *((referral, ACKNOWLEDGED) for referral in answered),
    }


async def test_an_alert_acknowledged_by_its_link_while_a_batch_answers_it_waits_for_the_batch(
    counted: CountedPool,
) -> None:
    """A batch: a request to one hospital (its statement takes both hospitals' feed locks),
    then the other hospital's answer of its alert. Meanwhile the alert's page is acknowledged
    by its link."""
    referral_id = new_referral()
    async with counted.pool.acquire() as connection:
        await accept_notification_request(
            connection, stroke_alert(referral_id, to=OTHER_HOSPITAL), contacts=CONTACTS
        )
        alert = await connection.fetchval(
            "SELECT id FROM delivery WHERE referral_id = $1 AND channel = 'in-app'", referral_id
        )
    batch = [_request(HOSPITAL), await _answer(counted, OTHER_HOSPITAL, referral_id)]
    by_link: list[asyncio.Task[bool]] = []

    async def acknowledged_by_link() -> bool:
        async with counted.pool.acquire() as connection, connection.transaction():
            by_link_pid.append(connection.get_server_pid())
            return await acknowledge(
                connection,
                delivery_id=alert,
                acknowledged_by="link recipient",
                channel="link",
                at=datetime.now(UTC),
            )

    by_link_pid: list[int] = []

    async def link_waits_or_is_done() -> bool | None:
        if by_link[0].done():
            return True
        if not by_link_pid:
            return None
        waits: bool = await counted.pool.fetchval(
            "SELECT EXISTS (SELECT FROM pg_locks WHERE pid = $1 AND NOT granted)", by_link_pid[0]
        )
        return waits or None

    async with _notifier_consumer(counted) as consumer:
        apply_in = consumer.apply_in

        async def gated(
            connection: Connection,
            record: ConsumerRecord[bytes, bytes],
            read: ReadRecord,
            **kw: Any,
        ) -> bool:
            applied = await apply_in(connection, record, read, **kw)
            if record is batch[0]:
                by_link.append(asyncio.create_task(acknowledged_by_link()))
                await eventually(link_waits_or_is_done, timeout=20, what="the link's statement")
            return applied

        consumer.apply_in = gated  # type: ignore[method-assign]
        applied = await _batch_reader(counted.pool, consumer)._apply_together(batch)
        link = list(await asyncio.gather(by_link[0], return_exceptions=True))

    # Was a deadlock: the batch rolled back (False), or the link's acknowledgement failed.
    assert applied is True
    # The board's answer came first: the link finds the alert acknowledged already.
    assert link == [False]
    acknowledged_by = await counted.pool.fetchval(
        "SELECT acknowledged_by FROM delivery WHERE id = $1", alert
    )
    assert acknowledged_by == "board:Dr Board"
