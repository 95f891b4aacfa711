"""The consumer wrapper, on FastStream's in-memory broker: bad input goes to the dead-letter topic.

Only the paths that never reach the database are tested here; delivery guarantees are proven on
the real broker in tests/integration and tests/e2e.
"""

from __future__ import annotations

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
