"""A message's bytes are read as JSON once, from its arrival to its inbox claim: the inbox's
digest is made from the JSON read for the message (``received_content_digest(value,
document)``), not from the bytes read again. Each message a service takes in (a relayed record,
a hospital's record, a hospital's HTTP body) was read twice: once for the message, once for its
digest (the second read about a quarter of the digest's cost)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from services.referral.entrypoints.messaging_api import _parse_and_digest
from shared.fhir.codes import EventCode
from shared.fhir.models import FHIR_VERSION
from shared.limits import DEFAULT_LIMITS
from shared.messaging import headers
from shared.messaging.consumer import FhirMessageConsumer
from shared.messaging.inbox import received_content_digest
from shared.messaging.record_reading import Unreadable
from shared.messaging.topics import HOSPITAL_INBOUND_TOPICS, REFERRAL_EVENTS
from tests.kafka_records import Publications, kafka_record

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "referral-requested.json"
RELAY_HEADERS = [(headers.PRODUCER, b"referral"), (headers.FHIR_VERSION, FHIR_VERSION.encode())]
SIKAO_TOPIC = HOSPITAL_INBOUND_TOPICS.of("sikao-hospital").name


@pytest.fixture
def value() -> bytes:
    return EXAMPLE.read_bytes()


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch, value: bytes) -> list[str]:
    """Each JSON read of ``value`` (by the standard library or orjson), from now on."""
    seen: list[str] = []
    standard, fast = json.loads, orjson.loads

    def standard_read(text: Any, *args: Any, **kwargs: Any) -> Any:
        if text == value:
            seen.append("json")
        return standard(text, *args, **kwargs)

    def fast_read(text: Any) -> Any:
        if text == value:
            seen.append("orjson")
        return fast(text)

    monkeypatch.setattr(json, "loads", standard_read)
    monkeypatch.setattr(orjson, "loads", fast_read)
    return seen


class _Inbox:
    """A connection on which every inbox claim is a first claim, with the digest it was given."""

    def __init__(self) -> None:
        self.digests: list[str] = []

    async def fetchrow(self, _query: str, *parameters: Any) -> dict[str, Any]:
        self.digests.append(parameters[-1])
        return {"seen": False, "stored_digest": None, "inserted": True}


async def _applied(*_: Any) -> None:
    return None


async def _read_and_claim(topic: Any, record: Any) -> list[str]:
    consumer = FhirMessageConsumer(
        broker=Publications(),  # type: ignore[arg-type]
        pool=None,  # type: ignore[arg-type]
        topic=topic,
        service_name="unit",
        handlers={EventCode.REFERRAL_REQUESTED: _applied},
    )
    read = consumer.read(record)
    assert not isinstance(read, Unreadable)
    inbox = _Inbox()
    assert await consumer.apply_in(inbox, record, read)  # type: ignore[arg-type]
    return inbox.digests


async def test_a_relayed_record_is_read_once_and_claimed_by_the_digest_of_its_bytes(
    value: bytes, reads: list[str]
) -> None:
    expected = received_content_digest(value)
    reads.clear()
    record = kafka_record(REFERRAL_EVENTS.name, value, headers=RELAY_HEADERS)
    digests = await _read_and_claim(REFERRAL_EVENTS, record)
    assert reads == ["orjson"]  # was ["orjson", "orjson"]: the message, then its digest
    assert digests == [expected]


async def test_a_hospitals_record_is_read_once_and_claimed_by_the_digest_of_its_bytes(
    value: bytes, reads: list[str]
) -> None:
    expected = received_content_digest(value)
    reads.clear()
    digests = await _read_and_claim(HOSPITAL_INBOUND_TOPICS, kafka_record(SIKAO_TOPIC, value))
    assert reads == ["json"]  # was ["json", "orjson"]
    assert digests == [expected]


def test_a_hospitals_http_body_is_read_once_for_its_message_and_its_digest(
    value: bytes, reads: list[str]
) -> None:
    expected = received_content_digest(value)
    reads.clear()
    message, digest = _parse_and_digest(value, DEFAULT_LIMITS)
    assert reads == ["json"]  # was ["json", "orjson"]
    assert digest == expected
    assert message.event is EventCode.REFERRAL_REQUESTED
