"""The consumer wrapper, on FastStream's in-memory broker: bad input goes to the dead-letter topic.

Only the paths that never reach the database are tested here; delivery guarantees are proven on
the real broker in tests/integration and tests/e2e.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.fhir.codes import EventCode
from shared.messaging import headers
from shared.messaging.consumer import FhirMessageConsumer
from shared.messaging.guard import ConsumerGuard
from shared.messaging.headers import DEAD_LETTER_REASON
from shared.messaging.progress import PartitionProgress
from shared.messaging.service_consumer import read_alone
from shared.messaging.topics import (
    HOSPITAL_INBOUND,
    PerHospitalTopics,
    Topic,
)
from tests.kafka_records import Publications, kafka_record

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "referral-requested.json"


class _NoDatabase:
    def acquire(self) -> Any:
        raise AssertionError("invalid messages must be dead-lettered before any database work")


async def _dead_letters(
    consumed: Topic | PerHospitalTopics, written: Topic, payload: bytes
) -> list[tuple[bytes, dict[str, str]]]:
    """What a consumer of ``consumed`` dead-letters when ``payload`` is written to ``written``
    (its handler must never run)."""
    broker = KafkaBroker()
    dead_letters: list[tuple[bytes, dict[str, str]]] = []

    async def never_called(*_: Any) -> None:
        raise AssertionError("the handler must not run for a refused message")

    read_alone(
        FhirMessageConsumer(
            broker=broker,
            pool=_NoDatabase(),  # type: ignore[arg-type]
            topic=consumed,
            service_name="unit",
            handlers={EventCode.REFERRAL_REQUESTED: never_called},
        ),
    )

    @broker.subscriber(written.dead_letter)
    async def collect(message: KafkaMessage) -> None:
        dead_letters.append((message.body, dict(message.headers)))

    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(payload, written.name, key=b"k-1")
    return dead_letters


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "Body is not valid JSON"),
        (b'{"resourceType": "Patient"}', "Expected a Bundle"),
        (b'{"resourceType": "Bundle", "type": "message", "entry": []}', "MessageHeader"),
    ],
)
async def test_invalid_message_is_dead_lettered_with_reason(payload: bytes, reason: str) -> None:
    dead_letters = await _dead_letters(HOSPITAL_INBOUND, HOSPITAL_INBOUND, payload)

    assert len(dead_letters) == 1
    body, dead_headers = dead_letters[0]
    assert body == payload
    assert reason in dead_headers[headers.DEAD_LETTER_REASON]
    assert dead_headers[headers.DEAD_LETTER_CONSUMER] == "fasttrack-unit"
    assert dead_headers[headers.DEAD_LETTER_SOURCE].startswith(HOSPITAL_INBOUND.name)


def _record() -> Any:
    from shared.fhir.envelope import parse_message

    value = parse_message(EXAMPLE.read_bytes()).to_json()
    return kafka_record(HOSPITAL_INBOUND.name, value, offset=42)


async def _attempts_until_dead_letter(
    error: Exception, tries: int, tracer: trace.Tracer | None = None
) -> tuple[int, list[str]]:
    """Feeds the guard the same failing record until it dead-letters it; (attempts, reasons)."""
    publications = Publications()
    guard = ConsumerGuard(
        group="fasttrack-unit",
        max_attempts=5,
        retry_backoff_s=0,
        progress=PartitionProgress(stall_after_s=30),
        tracer=tracer,
    )
    guard.bind(publications)  # type: ignore[arg-type]
    record = _record()
    for attempt in range(1, tries + 1):
        if await guard.settle_failure(record, error):
            return attempt, [headers_[DEAD_LETTER_REASON] for _, _, headers_ in publications.sent]
    return tries, []


async def test_a_record_that_keeps_failing_is_dead_lettered_after_five_attempts() -> None:
    attempts, reasons = await _attempts_until_dead_letter(ValueError("bug"), tries=10)
    assert attempts == 5
    assert reasons == [
        "processing failed 5 times (ValueError: bug); replay it once the cause is fixed"
    ]


@pytest.mark.parametrize(
    "outage",
    [
        ConnectionRefusedError(),
        OSError("Multiple exceptions: [Errno 111] Connect call failed"),
        asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
        KafkaConnectionError("Unable to bootstrap from 127.0.0.1:9092"),
    ],
)
async def test_infrastructure_failures_are_retried_for_as_long_as_they_last(
    outage: Exception,
) -> None:
    assert await _attempts_until_dead_letter(outage, tries=20) == (20, [])


async def test_each_retry_and_the_dead_letter_are_span_events_an_operator_sees() -> None:
    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    attempts, _ = await _attempts_until_dead_letter(
        ValueError("bug"), tries=10, tracer=provider.get_tracer("test")
    )
    spans = exported.get_finished_spans()
    name = f"fasttrack-unit settle failure {HOSPITAL_INBOUND.name}"
    assert [s.name for s in spans] == [name] * attempts
    events = [[event.name for event in span.events] for span in spans]
    assert events == [["retry scheduled"]] * (attempts - 1) + [["dead-lettered"]]
