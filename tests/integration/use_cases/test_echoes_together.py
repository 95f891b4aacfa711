"""The echoes (what telemedicine and the notifier tell the referral service only for referrals'
timelines: consult steps, page outcomes) fetched together are written by one statement, their
inbox claims and timeline rows together: a batch of N echoes costs the database BEGIN, one
statement and COMMIT (here, inside the test's transaction, SAVEPOINT and RELEASE), where each
echo was a statement of its own (N + 2). Counted from the statements the connection really
sends (asyncpg's query logger).

Nothing is applied twice, lost or reordered for it: a batch read again writes nothing, each
referral's steps are written in the order they were fetched, an echo about a referral the
service does not know rolls the batch back (each record is then read alone and only that one
is dead-lettered), a consult paged late after a known door-in still raises its alert, and each
record's handling still has its own span."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

from aiokafka import ConsumerRecord
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.referral.domain.alerts import AlertCode
from services.referral.domain.commands import ClinicalTime, ReportedTime
from services.referral.entrypoints.consumers import wire_consumers
from services.referral.service.intake import request_referral
from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage
from shared.messaging.topics import NOTIFICATION_OUTCOMES, TELEMEDICINE_EVENTS, Topic
from tests.delivery_outcomes import every_outcome_of, page_delivery
from tests.integration.use_cases.support import (
    CONTEXT,
    alerts_queued,
    referral_request,
    requested_and_paging,
)
from tests.use_case_database import sent_statements
from tests.wired_consumers import WiredConsumers, relayed_record

SENT, FAILED, DELIVERED, ACKNOWLEDGED, ESCALATED = range(5)


def _referral_service(connection: Connection) -> WiredConsumers:
    wired = WiredConsumers(connection, service_name="referral")
    wire_consumers(wired, CONTEXT)  # type: ignore[arg-type]
    return wired


def _outcomes(referral_id: str) -> list[FhirMessage]:
    """Its page's outcomes, in ``every_outcome_of``'s order (a page of its own per referral)."""
    delivery = dataclasses.replace(page_delivery(), id=f"d-{referral_id}", referral_id=referral_id)
    return every_outcome_of(delivery)


def _record(topic: Topic, message: FhirMessage, referral_id: str) -> ConsumerRecord[bytes, bytes]:
    return relayed_record(topic, message, key=referral_id)


async def _steps(connection: Connection, referral_id: str) -> list[str]:
    """The referral's timeline in the order its rows were written."""
    rows = await connection.fetch(
        "SELECT event_code FROM timeline_entry WHERE referral_id = $1 ORDER BY id", referral_id
    )
    return [row["event_code"] for row in rows]


async def _claimed(connection: Connection, messages: list[FhirMessage]) -> int:
    count: int = await connection.fetchval(
        "SELECT count(*) FROM inbox WHERE message_id = ANY($1::text[])",
        [message.message_id for message in messages],
    )
    return count


async def test_echoes_fetched_together_are_claimed_and_written_in_one_statement(
    connection: Connection,
) -> None:
    first = await request_referral(connection, request=referral_request(), context=CONTEXT)
    second = await request_referral(connection, request=referral_request(), context=CONTEXT)
    first_before, second_before = await _steps(connection, first), await _steps(connection, second)
    first_pages, second_pages = _outcomes(first), _outcomes(second)
    consult = requested_and_paging(first, asked_at=datetime.now(UTC) - timedelta(seconds=5))
    fetched = [
        (NOTIFICATION_OUTCOMES, first_pages[SENT], first),
        (NOTIFICATION_OUTCOMES, second_pages[SENT], second),
        (TELEMEDICINE_EVENTS, consult, first),
        (NOTIFICATION_OUTCOMES, first_pages[DELIVERED], first),
        (NOTIFICATION_OUTCOMES, second_pages[DELIVERED], second),
        (NOTIFICATION_OUTCOMES, second_pages[ACKNOWLEDGED], second),
    ]
    messages = [message for _, message, _ in fetched]
    service = _referral_service(connection)
    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    for topic in (NOTIFICATION_OUTCOMES, TELEMEDICINE_EVENTS):
        service.subscribed(topic)._tracer = provider.get_tracer("test")

    async with sent_statements(connection) as sent:
        assert await service.deliver_together([_record(*each) for each in fetched])

    # Was 8 (N + 2): SAVEPOINT (BEGIN), each echo's statement (6), RELEASE (COMMIT).
    assert len(sent) == 3, "\n".join(sent)
    assert await _claimed(connection, messages) == len(fetched)
    # Each referral's steps in the order they were fetched.
    assert await _steps(connection, first) == [
        *first_before,
        EventCode.NOTIFICATION_SENT.value,
        EventCode.TELECONSULT_REQUESTED.value,
        EventCode.TELECONSULT_UPDATED.value,
        EventCode.NOTIFICATION_DELIVERED.value,
    ]
    assert await _steps(connection, second) == [
        *second_before,
        EventCode.NOTIFICATION_SENT.value,
        EventCode.NOTIFICATION_DELIVERED.value,
        EventCode.NOTIFICATION_ACKNOWLEDGED.value,
    ]
    # One span per record's handling, as when each was applied by a statement of its own.
    assert [span.name for span in exported.get_finished_spans()] == [
        f"referral handle {message.event.value}" for message in messages
    ]

    async with sent_statements(connection) as sent_again:
        assert await service.deliver_together([_record(*each) for each in fetched])

    # The same batch again (a redelivery) is found in the inbox: nothing more written.
    assert len(sent_again) == 3, "\n".join(sent_again)
    assert await _claimed(connection, messages) == len(fetched)
    assert len(await _steps(connection, first)) == len(first_before) + 4
    assert len(await _steps(connection, second)) == len(second_before) + 3
    assert service.dead_letters.sent == []


async def test_an_echo_about_an_unknown_referral_rolls_the_batch_back_and_is_dead_lettered_alone(
    connection: Connection,
) -> None:
    known = await request_referral(connection, request=referral_request(), context=CONTEXT)
    before = await _steps(connection, known)
    unknown = f"uc-{uuid.uuid4()}"
    pages, strays = _outcomes(known), _outcomes(unknown)
    fetched = [
        _record(NOTIFICATION_OUTCOMES, pages[SENT], known),
        _record(NOTIFICATION_OUTCOMES, strays[DELIVERED], unknown),
        _record(NOTIFICATION_OUTCOMES, pages[DELIVERED], known),
    ]
    service = _referral_service(connection)

    assert not await service.deliver_together(fetched)

    assert await _steps(connection, known) == before
    assert await _claimed(connection, [pages[SENT], strays[DELIVERED], pages[DELIVERED]]) == 0

    # Read again one at a time, as the consumer does after a rollback.
    for record in fetched:
        await service.subscribed(NOTIFICATION_OUTCOMES).handle(record)

    assert await _steps(connection, known) == [
        *before,
        EventCode.NOTIFICATION_SENT.value,
        EventCode.NOTIFICATION_DELIVERED.value,
    ]
    assert [topic for topic, _, _ in service.dead_letters.sent] == [
        f"{NOTIFICATION_OUTCOMES.name}.dlq"
    ]
    assert await _claimed(connection, [strays[DELIVERED]]) == 0


async def test_a_consult_paged_late_among_echoes_still_alerts_the_spoke_once_in_order(
    connection: Connection,
) -> None:
    door_in = ReportedTime(
        kind=ClinicalTime.DOOR_IN, occurred_at=datetime.now(UTC) - timedelta(minutes=30)
    )
    late = await request_referral(
        connection,
        request=referral_request(
            teleconsult_requested=True, last_known_well=None, reported_times=(door_in,)
        ),
        context=CONTEXT,
    )
    other = await request_referral(connection, request=referral_request(), context=CONTEXT)
    late_before, other_before = await _steps(connection, late), await _steps(connection, other)
    late_pages, other_pages = _outcomes(late), _outcomes(other)
    consult = requested_and_paging(late, asked_at=datetime.now(UTC) - timedelta(seconds=5))
    fetched = [
        _record(NOTIFICATION_OUTCOMES, late_pages[SENT], late),
        _record(NOTIFICATION_OUTCOMES, other_pages[SENT], other),
        _record(TELEMEDICINE_EVENTS, consult, late),
        _record(NOTIFICATION_OUTCOMES, late_pages[DELIVERED], late),
        _record(NOTIFICATION_OUTCOMES, other_pages[DELIVERED], other),
    ]
    service = _referral_service(connection)

    assert await service.deliver_together(fetched)
    assert await service.deliver_together(fetched)

    # Asked 30 min after door-in (over 15): the spoke is alerted, in the batch's transaction.
    late_alerts = await alerts_queued(
        connection, key=late, alert=AlertCode.CONSULT_REQUESTED_LATE.value
    )
    assert len(late_alerts) == 1
    assert await _steps(connection, late) == [
        *late_before,
        EventCode.NOTIFICATION_SENT.value,
        EventCode.TELECONSULT_REQUESTED.value,
        EventCode.TELECONSULT_UPDATED.value,
        EventCode.TIME_CRITICAL_ALERT.value,  # the late consult's alert, in its place
        EventCode.NOTIFICATION_DELIVERED.value,
    ]
    assert await _steps(connection, other) == [
        *other_before,
        EventCode.NOTIFICATION_SENT.value,
        EventCode.NOTIFICATION_DELIVERED.value,
    ]
    assert await _claimed(connection, [consult, late_pages[SENT], other_pages[DELIVERED]]) == 3
