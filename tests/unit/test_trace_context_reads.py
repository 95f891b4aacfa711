"""A stored or carried trace context (an outbox row's, a queued delivery's, a Kafka record's
headers) is read and written with the referral's ids in its ``baggage`` parsed or encoded once
per distinct ids and process, not once per row, record or delivery: the rows, records and
deliveries of one referral carry the same ids, and OpenTelemetry's W3C baggage parser and
encoder were 1-2 % of each service's samples (``propagate.extract`` in the notifier's resumed
deliveries, the consumer's batched records and the relay's rows; ``propagate.inject`` in every
outbox row and queued delivery). What an operator reads is unchanged: the same parent span, the
referral's ids on every span, and nothing else a caller put in its ``baggage`` stored or
carried on."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import baggage, context, propagate, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.sdk.trace import TracerProvider

from shared.fhir.codes import EventCode
from shared.fhir.envelope import build_message
from shared.fhir.models import Task
from shared.messaging.outbox import OutboxEvent, outbox_parameters
from shared.messaging.service_consumer import _trace_context_of
from shared.messaging.topics import REFERRAL_EVENTS
from shared.tracing import (
    HOSPITAL_IDS,
    REFERRAL_ID,
    ReferralIds,
    about_referral,
    relayed_trace_headers,
    resumed,
)
from tests.kafka_records import kafka_record

RECORDS = 3


@pytest.fixture
def baggage_work(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many W3C baggage headers OpenTelemetry parses and writes, from now on."""
    counts = {"parsed": 0, "written": 0}
    extract, inject = W3CBaggagePropagator.extract, W3CBaggagePropagator.inject

    def parsing(self: W3CBaggagePropagator, carrier: Any, *args: Any, **kwargs: Any) -> Any:
        if carrier.get("baggage"):
            counts["parsed"] += 1
        return extract(self, carrier, *args, **kwargs)

    def writing(self: W3CBaggagePropagator, carrier: Any, *args: Any, **kwargs: Any) -> None:
        inject(self, carrier, *args, **kwargs)
        if carrier.get("baggage"):
            counts["written"] += 1

    monkeypatch.setattr(W3CBaggagePropagator, "extract", parsing)
    monkeypatch.setattr(W3CBaggagePropagator, "inject", writing)
    return counts


@pytest.fixture
def tracer() -> Iterator[trace.Tracer]:
    provider = TracerProvider()
    yield provider.get_tracer("test")
    provider.shutdown()


def _ids() -> ReferralIds:
    # A referral this process has not seen: nothing of it is cached yet.
    return ReferralIds.of(f"r-{uuid.uuid4()}", ["sikao-hospital", "trang-hospital"])


def _event(referral: str, n: int) -> OutboxEvent:
    task = Task.model_validate(
        {"resourceType": "Task", "id": referral, "status": "requested", "intent": "order"}
    )
    message = build_message(
        event=EventCode.CLINICAL_UPDATE,
        sender="Organization/sikao-hospital",
        destinations=["Organization/trang-hospital"],
        focus=[task],
        source_endpoint=f"urn:test:{n}",
    )
    return OutboxEvent(topic=REFERRAL_EVENTS, key=referral, message=message)


def test_the_outbox_rows_of_one_referral_have_their_baggage_written_once_and_only_its_ids(
    baggage_work: dict[str, int], tracer: trace.Tracer
) -> None:
    ids = _ids()
    assert ids.referral_id is not None
    with tracer.start_as_current_span("referral intake") as span, about_referral(ids):
        # A caller's own baggage entry (a hospital's HTTP request may carry any) in the context.
        token = context.attach(baggage.set_baggage("patient.name", "Somchai"))
        try:
            baggage_work.update(parsed=0, written=0)
            columns = outbox_parameters([_event(ids.referral_id, n) for n in range(RECORDS)])
        finally:
            context.detach(token)
    assert baggage_work["written"] == 1  # was 3: one per row
    stored = [propagate.extract(json.loads(text)) for text in columns[5]]
    for carried in stored:
        # The same parent (the span that wrote the row) and the referral's ids, nothing else.
        parent = trace.get_current_span(carried).get_span_context()
        assert (parent.trace_id, parent.span_id) == (
            span.get_span_context().trace_id,
            span.get_span_context().span_id,
        )
        assert baggage.get_all(carried) == {
            REFERRAL_ID: ids.referral_id,
            HOSPITAL_IDS: "sikao-hospital,trang-hospital",
        }


def test_the_deliveries_of_one_referral_resume_their_trace_with_its_baggage_parsed_once(
    baggage_work: dict[str, int], tracer: trace.Tracer
) -> None:
    ids = _ids()
    stored: dict[str, str] = {}
    with tracer.start_as_current_span("notifier handle") as span, about_referral(ids):
        propagate.inject(stored)
    baggage_work.update(parsed=0, written=0)
    reached = ReferralIds.of(ids.referral_id, ["trang-hospital"])
    contexts = [resumed(stored, reached) for _ in range(RECORDS)]
    assert baggage_work["parsed"] == 1  # was 3: one per delivery attempt
    for resumed_context in contexts:
        parent = trace.get_current_span(resumed_context).get_span_context()
        assert (parent.trace_id, parent.span_id) == (
            span.get_span_context().trace_id,
            span.get_span_context().span_id,
        )
        assert ReferralIds.from_baggage(resumed_context) == ids


def test_the_records_of_one_referral_fetched_together_have_their_baggage_parsed_once(
    baggage_work: dict[str, int], tracer: trace.Tracer
) -> None:
    ids = _ids()
    carriers: list[dict[str, str]] = []
    for _ in range(RECORDS):
        with tracer.start_as_current_span("outbox publish"), about_referral(ids):
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            carriers.append(carrier)
    records = [
        kafka_record(
            REFERRAL_EVENTS.name,
            b"{}",
            headers=[(name, value.encode()) for name, value in carrier.items()],
            offset=n,
        )
        for n, carrier in enumerate(carriers)
    ]
    baggage_work.update(parsed=0, written=0)
    for record, carrier in zip(records, carriers, strict=True):
        with _trace_context_of(record):
            parent = trace.get_current_span().get_span_context()
            assert f"{parent.span_id:016x}" == carrier["traceparent"].split("-")[2]
            assert ReferralIds.from_baggage() == ids
    assert baggage_work["parsed"] == 1  # was 3: one per record


def test_a_records_tracestate_is_kept_with_its_traceparent() -> None:
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    record = kafka_record(
        REFERRAL_EVENTS.name,
        b"{}",
        headers=[("traceparent", traceparent.encode()), ("tracestate", b"hospital=abc")],
    )
    with _trace_context_of(record):
        parent = trace.get_current_span().get_span_context()
    assert f"{parent.span_id:016x}" == "b7ad6b7169203331"
    assert parent.trace_state.get("hospital") == "abc"
    stored = {"traceparent": traceparent, "tracestate": "hospital=abc"}
    assert relayed_trace_headers(stored) == stored
