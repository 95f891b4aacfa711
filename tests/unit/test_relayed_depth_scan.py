"""The JSON depth scan runs on records a hospital wrote, not on what the network's relay wrote.

The scan of every record's bytes (``json_depth_exceeds``) was 1-4 % of a service's CPU, nearly
all of it on internal hops: records the network's own outbox relay published on topics only its
services may write, built by typed builders the test suite parses back strictly (nesting
included). Those are read as they are; a hospital's record is still scanned, and anything nested
too deep is dead-lettered with the depth as its reason, on either path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shared.fhir.codes import EventCode
from shared.fhir.models import FHIR_VERSION
from shared.messaging import headers, limits
from shared.messaging.consumer import FhirMessageConsumer
from shared.messaging.record_reading import ReadRecord, Unreadable
from shared.messaging.topics import HOSPITAL_INBOUND_TOPICS, REFERRAL_EVENTS
from tests.kafka_records import Publications, kafka_record

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "referral-requested.json"
RELAY_HEADERS = [(headers.PRODUCER, b"referral"), (headers.FHIR_VERSION, FHIR_VERSION.encode())]
SIKAO_TOPIC = HOSPITAL_INBOUND_TOPICS.of("sikao-hospital").name


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every document the depth scan reads, from now on."""
    seen: list[int] = []
    original = limits.json_depth_exceeds

    def counting(document: bytes, limit: int) -> bool:
        seen.append(len(document))
        return original(document, limit)

    monkeypatch.setattr(limits, "json_depth_exceeds", counting)
    return seen


async def _ignore(*_: Any) -> None:
    return None


def _consumer(topic: Any, publications: Publications) -> FhirMessageConsumer:
    return FhirMessageConsumer(
        broker=publications,  # type: ignore[arg-type]
        pool=None,  # type: ignore[arg-type]
        topic=topic,
        service_name="unit",
        handlers={EventCode.REFERRAL_REQUESTED: _ignore},
    )


def _deep_message(levels: int) -> bytes:
    """The example referral with an extension nested ``levels`` extensions (two JSON levels
    each) deep inside its Task, written out (``json.dumps`` recurses per level)."""
    document = json.loads(EXAMPLE.read_bytes())
    task = next(e for e in document["entry"] if e["resource"]["resourceType"] == "Task")
    task["resource"]["extension"] = ["NESTED"]
    nested = (
        '{"url": "http://example.org/nest", "extension": [' * levels
        + '{"url": "http://example.org/leaf", "valueString": "x"}'
        + "]}" * levels
    )
    return json.dumps(document).replace('"NESTED"', nested).encode()


def test_a_relayed_record_is_read_without_scanning_its_depth(scans: list[int]) -> None:
    consumer = _consumer(REFERRAL_EVENTS, Publications())
    read = consumer.read(
        kafka_record(REFERRAL_EVENTS.name, EXAMPLE.read_bytes(), headers=RELAY_HEADERS)
    )
    assert isinstance(read, ReadRecord)
    assert read.message.event is EventCode.REFERRAL_REQUESTED
    assert scans == []


def test_a_hospitals_record_is_scanned_once(scans: list[int]) -> None:
    consumer = _consumer(HOSPITAL_INBOUND_TOPICS, Publications())
    # Even with the relay's headers: a hospital's topic is never the relay's.
    for record_headers in ([], RELAY_HEADERS):
        read = consumer.read(
            kafka_record(SIKAO_TOPIC, EXAMPLE.read_bytes(), headers=record_headers)
        )
        assert not isinstance(read, Unreadable)
    assert scans == [len(EXAMPLE.read_bytes())] * 2


@pytest.mark.parametrize(
    ("topic", "record_topic", "record_headers"),
    [
        (HOSPITAL_INBOUND_TOPICS, SIKAO_TOPIC, []),
        (REFERRAL_EVENTS, REFERRAL_EVENTS.name, []),  # not the relay's: no producer header
        (REFERRAL_EVENTS, REFERRAL_EVENTS.name, RELAY_HEADERS),
    ],
)
@pytest.mark.parametrize("body", [b"[" * 10_000 + b"]" * 10_000, _deep_message(1_000)])
async def test_a_record_nested_too_deep_is_dead_lettered_with_the_depth_as_its_reason(
    topic: Any, record_topic: str, record_headers: list[tuple[str, bytes]], body: bytes
) -> None:
    publications = Publications()
    consumer = _consumer(topic, publications)
    await consumer.handle(kafka_record(record_topic, body, headers=record_headers))
    ((dead_letter_topic, dead_body, dead_headers),) = publications.sent
    assert dead_letter_topic.endswith(".dlq")
    assert dead_body == body
    assert dead_headers[headers.DEAD_LETTER_REASON] == (
        f"JSON nests deeper than {limits.MAX_JSON_DEPTH} levels"
    )
