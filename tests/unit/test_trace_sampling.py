"""What tracing costs a service is bounded: head sampling by setting, a bounded export queue.

Keeping every error and slow trace is the collector's tail sampling (deploy/otel-collector,
tests/unit/test_trace_collector.py): a service deciding when a trace starts cannot know.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

from opentelemetry import propagate
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from shared.settings import PlatformSettings
from shared.telemetry import Telemetry, batch_processor

SAMPLED_PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
UNSAMPLED_PARENT = "00-1af7651916cd43dd8448eb211c80319c-c7ad6b7169203331-00"


def _exported_names(settings: PlatformSettings) -> list[str]:
    telemetry = Telemetry(service_name="unit", settings=settings)
    tracer = telemetry.tracer("unit")
    with tracer.start_as_current_span("begun here"):
        pass
    for name, traceparent in (
        ("sampled upstream", SAMPLED_PARENT),
        ("dropped upstream", UNSAMPLED_PARENT),
    ):
        parent = propagate.extract({"traceparent": traceparent})
        with (
            tracer.start_as_current_span(name, context=parent),
            tracer.start_as_current_span(f"{name}, inside"),
        ):
            pass
    telemetry.shutdown()
    assert settings.trace_file is not None
    lines = Path(settings.trace_file).read_text(encoding="utf-8").splitlines()
    return sorted(json.loads(line)["name"] for line in lines)


def test_every_trace_is_kept_by_default(tmp_path: Path) -> None:
    settings = PlatformSettings(environment="test", trace_file=str(tmp_path / "spans.jsonl"))
    assert _exported_names(settings) == [
        "begun here",
        "sampled upstream",
        "sampled upstream, inside",
    ]


def test_a_sampled_out_service_keeps_the_traces_its_upstream_kept_whole(tmp_path: Path) -> None:
    settings = PlatformSettings(
        environment="test", trace_file=str(tmp_path / "spans.jsonl"), trace_sample_ratio=0.0
    )
    # Its own new traces are dropped; a trace kept upstream is kept here too, every span of it.
    assert _exported_names(settings) == ["sampled upstream", "sampled upstream, inside"]


class _StuckExporter(SpanExporter):
    """An exporter whose first export hangs until released (a trace store that is away)."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.exported: list[str] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.released.wait(timeout=30)
        self.exported.extend(span.name for span in spans)
        return SpanExportResult.SUCCESS


def test_spans_beyond_the_export_queue_are_dropped_never_waited_for() -> None:
    settings = PlatformSettings(environment="test", trace_queue_size=10, trace_batch_size=512)
    exporter = _StuckExporter()
    provider = TracerProvider()
    provider.add_span_processor(batch_processor(exporter, settings))
    tracer = provider.get_tracer("unit")
    for n in range(200):  # returns at once although the exporter is stuck
        with tracer.start_as_current_span(f"span {n}"):
            pass
    exporter.released.set()
    provider.shutdown()
    # At most the batch being exported and a full queue behind it; the rest were dropped.
    assert 10 <= len(exporter.exported) <= 20
