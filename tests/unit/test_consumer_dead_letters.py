"""The consumer wrapper, on FastStream's in-memory broker: bad input goes to the dead-letter topic.

Only the paths that never reach the database are tested here; delivery guarantees are proven on
the real broker in tests/integration and tests/e2e.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from shared.fhir.codes import EventCode
from shared.messaging import headers
from shared.messaging.consumer import FhirMessageConsumer
from shared.messaging.topics import HOSPITAL_INBOUND


class _NoDatabase:
    def acquire(self) -> Any:
        raise AssertionError("invalid messages must be dead-lettered before any database work")


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "Body is not valid JSON"),
        (b'{"resourceType": "Patient"}', "Expected a Bundle"),
        (b'{"resourceType": "Bundle", "type": "message", "entry": []}', "MessageHeader"),
    ],
)
async def test_invalid_message_is_dead_lettered_with_reason(payload: bytes, reason: str) -> None:
    broker = KafkaBroker()
    dead_letters: list[tuple[bytes, dict[str, str]]] = []

    async def never_called(*_: Any) -> None:
        raise AssertionError("handler must not run for an invalid message")

    FhirMessageConsumer(
        broker=broker,
        pool=_NoDatabase(),  # type: ignore[arg-type]
        topic=HOSPITAL_INBOUND,
        service_name="unit",
        handlers={EventCode.REFERRAL_REQUESTED: never_called},
        retry_backoff_s=0,
    ).subscribe()

    @broker.subscriber(HOSPITAL_INBOUND.dead_letter)
    async def collect(message: KafkaMessage) -> None:
        dead_letters.append((message.body, dict(message.headers)))

    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(payload, HOSPITAL_INBOUND.name, key=b"k-1")

    assert len(dead_letters) == 1
    body, dead_headers = dead_letters[0]
    assert body == payload
    assert reason in dead_headers[headers.DEAD_LETTER_REASON]
    assert dead_headers[headers.DEAD_LETTER_CONSUMER] == "fasttrack-unit"
    assert dead_headers[headers.DEAD_LETTER_SOURCE].startswith(HOSPITAL_INBOUND.name)


class _FailingPool:
    """A pool whose every use fails with the given error."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def acquire(self) -> Any:
        raise self.error


def _record() -> Any:
    from aiokafka import ConsumerRecord

    from shared.fhir.envelope import parse_message

    example = Path(__file__).resolve().parents[2] / "examples" / "referral-requested.json"
    value = parse_message(example.read_bytes()).to_json()
    return ConsumerRecord(
        topic=HOSPITAL_INBOUND.name,
        partition=0,
        offset=42,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=value,
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=len(value),
        headers=[],
    )


async def _attempts_until_dead_letter(error: Exception, tries: int) -> list[str]:
    async def handler(*_: Any) -> None:
        return None

    consumer = FhirMessageConsumer(
        broker=KafkaBroker(),
        pool=_FailingPool(error),  # type: ignore[arg-type]
        topic=HOSPITAL_INBOUND,
        service_name="unit",
        handlers={EventCode.REFERRAL_REQUESTED: handler},
        retry_backoff_s=0,
    )
    reasons: list[str] = []

    async def record_dead_letter(_: Any, reason: str) -> None:
        reasons.append(reason)

    consumer.dead_letter = record_dead_letter  # type: ignore[method-assign, assignment]
    record = _record()
    for _ in range(tries):
        # The wrapper re-raises so the record is read again; the next call is that re-read.
        with contextlib.suppress(Exception):
            await consumer.handle(record)
        if reasons:
            break
    return reasons


async def test_a_record_that_keeps_failing_is_dead_lettered_after_five_attempts() -> None:
    reasons = await _attempts_until_dead_letter(ValueError("bug"), tries=10)
    assert reasons == ["processing failed 5 times (ValueError); replay it once the cause is fixed"]


async def test_infrastructure_failures_are_retried_for_as_long_as_they_last() -> None:
    assert await _attempts_until_dead_letter(ConnectionRefusedError(), tries=20) == []
