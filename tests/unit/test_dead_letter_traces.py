"""A dead letter is an error in its record's trace, which the collector's tail sampling keeps.

A record refused before any handling began (not JSON, not a FHIR message) has no span of
FastStream's to carry the dead letter (it makes none: shared/messaging/broker.py), so the
consumer gives it one, in the trace the record came with.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from shared.fhir.codes import EventCode
from shared.messaging.consumer import FhirMessageConsumer
from shared.messaging.topics import HOSPITAL_INBOUND
from tests.kafka_records import Publications, kafka_record

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"


async def _never(*_: Any) -> None:
    raise AssertionError("a refused record is not handled")


class _NoDatabase:
    def acquire(self) -> Any:
        raise AssertionError("a refused record needs no database")


async def test_a_record_refused_before_handling_is_an_error_span_of_its_trace() -> None:
    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    publications = Publications()
    consumer = FhirMessageConsumer(
        broker=publications,  # type: ignore[arg-type]
        pool=_NoDatabase(),  # type: ignore[arg-type]
        topic=HOSPITAL_INBOUND,
        service_name="referral",
        handlers={EventCode.REFERRAL_REQUESTED: _never},
    )
    consumer._tracer = provider.get_tracer("unit")
    traceparent = f"00-{TRACE_ID}-{PARENT_ID}-01".encode()
    await consumer.handle(
        kafka_record(HOSPITAL_INBOUND.name, b"{not json", headers=[("traceparent", traceparent)])
    )
    assert [topic for topic, _, _ in publications.sent] == [HOSPITAL_INBOUND.dead_letter]
    (span,) = exported.get_finished_spans()
    assert span.name == f"referral dead-letter {HOSPITAL_INBOUND.name}"
    assert span.kind is SpanKind.CONSUMER
    assert span.status.status_code is StatusCode.ERROR
    assert "Body is not valid JSON" in (span.status.description or "")
    assert [event.name for event in span.events] == ["dead-lettered"]
    assert f"{span.context.trace_id:032x}" == TRACE_ID
    assert span.parent is not None
    assert f"{span.parent.span_id:016x}" == PARENT_ID
