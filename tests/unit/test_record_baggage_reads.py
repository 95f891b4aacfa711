"""The referral ids a Kafka record's ``baggage`` header carries are parsed once per distinct
header and process, not at every record read: the records of one referral (its request, its
consult's steps, its pages' outcomes) carry the same ids, and OpenTelemetry's W3C baggage
parser was about 2 % of the referral service's samples. What the header names is unchanged:
only a referral id and hospital ids shaped like FHIR ids, nothing else a sender puts there."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import context
from opentelemetry.baggage.propagation import W3CBaggagePropagator

from shared.fhir.models import FHIR_VERSION
from shared.messaging import headers
from shared.messaging.consumer import FhirMessageConsumer
from shared.messaging.record_reading import Unreadable
from shared.messaging.topics import REFERRAL_EVENTS
from shared.tracing import ReferralIds, relayed_trace_headers, stored_trace_context
from tests.kafka_records import Publications, kafka_record

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "referral-requested.json"
RELAY_HEADERS = [(headers.PRODUCER, b"referral"), (headers.FHIR_VERSION, FHIR_VERSION.encode())]


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each baggage header OpenTelemetry's W3C propagator parses, from now on."""
    seen: list[str] = []
    original = W3CBaggagePropagator.extract

    def counting(self: W3CBaggagePropagator, carrier: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(str(carrier.get("baggage")))
        return original(self, carrier, *args, **kwargs)

    monkeypatch.setattr(W3CBaggagePropagator, "extract", counting)
    return seen


def _baggage_of(ids: ReferralIds) -> list[tuple[str, bytes]]:
    """The ``baggage`` header the relay writes on a record of the referral."""
    relayed = relayed_trace_headers(stored_trace_context(ids))
    return [(name, value.encode()) for name, value in relayed.items()]


def test_the_records_of_one_referral_have_their_baggage_parsed_once(parses: list[str]) -> None:
    referral = f"r-{uuid.uuid4()}"  # a referral this process has not seen
    ids = ReferralIds.of(referral, ["Organization/sikao-hospital", "Organization/trang-hospital"])
    carried = _baggage_of(ids)
    consumer = FhirMessageConsumer(
        broker=Publications(),  # type: ignore[arg-type]
        pool=None,  # type: ignore[arg-type]
        topic=REFERRAL_EVENTS,
        service_name="unit",
        handlers={},
    )
    value = EXAMPLE.read_bytes()
    parses.clear()
    for offset in range(3):
        record = kafka_record(
            REFERRAL_EVENTS.name,
            value,
            key=referral.encode(),
            headers=[*RELAY_HEADERS, *carried],
            offset=offset,
        )
        read = consumer.read(record)
        assert not isinstance(read, Unreadable)
        assert read.ids.referral_id == referral
        assert set(ids.hospitals) <= set(read.ids.hospitals)
    assert len(parses) <= 1  # was 3: one per record (0 here: the relay read it already)


def test_a_header_is_read_as_before(parses: list[str]) -> None:
    referral = f"r-{uuid.uuid4()}"
    planted = f"patient.name=Somchai,fasttrack.referral.id={referral},fasttrack.hospital.ids=a%2Cb"
    carried = [("baggage", b"fasttrack.referral.id=x"), ("baggage", planted.encode())]
    for _ in range(2):
        # The last baggage header counts, as in a carrier of the headers; only our keys.
        assert ReferralIds.from_headers(carried) == ReferralIds.of(referral, ["a", "b"])
    assert ReferralIds.from_headers([("other", b"x")]) == ReferralIds()
    bad = f"fasttrack.referral.id=Somchai Jaidee {uuid.uuid4()}"
    assert ReferralIds.from_headers([("baggage", bad.encode())]) == ReferralIds()


def test_the_records_relayed_for_one_referral_have_their_baggage_written_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    written: list[int] = []
    original = W3CBaggagePropagator.inject

    def counting(self: W3CBaggagePropagator, carrier: Any, *args: Any, **kwargs: Any) -> None:
        written.append(1)
        original(self, carrier, *args, **kwargs)

    ids = ReferralIds.of(f"r-{uuid.uuid4()}", ["sikao-hospital", "trang-hospital"])
    expected: dict[str, str] = {}
    W3CBaggagePropagator().inject(expected, ids.in_baggage(context.Context()))
    monkeypatch.setattr(W3CBaggagePropagator, "inject", counting)
    # Three rows of the referral written, then relayed.
    relayed = [relayed_trace_headers(stored_trace_context(ids)) for _ in range(3)]
    assert len(written) == 1  # was 3: one per record relayed
    assert relayed == [expected] * 3
    assert ReferralIds.from_headers([("baggage", expected["baggage"].encode())]) == ids
    relayed[0]["baggage"] = "changed by a caller"
    assert relayed_trace_headers(stored_trace_context(ids)) == expected
    # A row written before only the ids were stored: only they are carried on.
    older = {"baggage": f"patient.name=Somchai,{expected['baggage']}"}
    assert relayed_trace_headers(older) == expected
    assert relayed_trace_headers({}) == {}  # no ids stored, no header
