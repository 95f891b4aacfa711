"""OpenTelemetry setup: one tracer provider per process exporting spans over OTLP, one meter
provider read through a Prometheus registry (``GET /metrics``, shared/metrics/endpoint.py), JSON
logs with trace ids."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping, Sequence
from typing import IO, Any

import orjson
from fastapi.routing import APIRoute
from fastapi.telemetry import TelemetryConfig
from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.metrics.view import View
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import SpanKind
from prometheus_client import CollectorRegistry
from pythonjsonlogger.json import JsonFormatter

from shared import tracing
from shared.settings import PlatformSettings


class Telemetry:
    """Owns the process's tracer provider; built once in a service's lifespan."""

    def __init__(
        self,
        *,
        service_name: str,
        settings: PlatformSettings,
        capability_paths: Sequence[str] = (),
    ) -> None:
        """``capability_paths``: path prefixes whose next segment is a secret (a signed link),
        kept out of request spans (``RequestUrlRedactor``)."""
        self.service_name = service_name
        self.provider = TracerProvider(
            resource=Resource.create({SERVICE_NAME: service_name, SERVICE_VERSION: "0.1.0"}),
            sampler=ParentBased(TraceIdRatioBased(settings.trace_sample_ratio)),
        )
        self._settings = settings
        self._trace_file: IO[str] | None = None
        # First, so the exporters see the referral ids it sets when a span starts.
        self._referral_ids = tracing.ReferralSpanProcessor()
        self.provider.add_span_processor(self._referral_ids)
        self.provider.add_span_processor(RequestUrlRedactor(capability_paths))
        tracing.register(self._referral_ids)
        if not isinstance(trace.get_tracer_provider(), TracerProvider):
            # The process's own (one service per process): code without a provider handed to
            # it (the Kafka consumer wrapper, the consumer guard) traces through this one.
            trace.set_tracer_provider(self.provider)
        if settings.zipkin_endpoint:
            # The trace UI of the local stack (deploy/local/zipkin.sh) and of docker compose.
            # Imported only when used, as the OTLP exporter below.
            from shared.zipkin_export import zipkin_exporter

            self.provider.add_span_processor(
                self._batches(zipkin_exporter(settings.zipkin_endpoint))
            )
        if settings.otlp_endpoint:
            # Imported only when used: with protobuf they were several percent of the imports a
            # start waits for before /health answers.
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter(endpoint=f"{settings.otlp_endpoint.rstrip('/')}/v1/traces")
            self.provider.add_span_processor(self._batches(exporter))
        if settings.trace_file:
            # The SDK's own exporter, one JSON document per line, so tests can read the spans.
            self._trace_file = open(settings.trace_file, "a", encoding="utf-8")  # noqa: SIM115
            self.provider.add_span_processor(
                self._batches(ConsoleSpanExporter(out=self._trace_file, formatter=_span_line))
            )
        # Metrics are pulled, not pushed: Prometheus (or an OpenTelemetry Collector's prometheus
        # receiver) scrapes GET /metrics. The process has its own registry, not prometheus_client's
        # global one, so an app built twice in one process (the tests) never reports another's.
        self.metrics_registry = CollectorRegistry()
        readers: list[MetricReader] = [
            PrometheusMetricReader(
                disable_target_info=True,
                scope_info_enabled=False,
                registry=self.metrics_registry,
            )
        ]
        self.meter_provider = MeterProvider(
            resource=self.provider.resource, metric_readers=readers, views=HTTP_SERVER_VIEWS
        )
        self._asyncpg: AsyncPGInstrumentor | None = None
        if settings.trace_sql:
            self._asyncpg = AsyncPGInstrumentor()  # type: ignore[no-untyped-call]
            self._asyncpg.instrument(tracer_provider=self.provider)
        configure_logging(service_name=service_name, level=settings.log_level)

    def _batches(self, exporter: SpanExporter) -> BatchSpanProcessor:
        return batch_processor(exporter, self._settings)

    def tracer(self, name: str) -> trace.Tracer:
        return self.provider.get_tracer(name)

    def meter(self, name: str) -> metrics.Meter:
        return self.meter_provider.get_meter(name)

    def shutdown(self) -> None:
        tracing.unregister(self._referral_ids)
        if self._asyncpg is not None:
            self._asyncpg.uninstrument()
        self.provider.shutdown()
        self.meter_provider.shutdown()
        if self._trace_file is not None:
            self._trace_file.close()


# FastAPI's request telemetry's histogram, as docs/operations.md lists it: the request duration
# by route template, method and status code. The scheme and protocol version it adds are the same
# on every series of an instance (Prometheus' ``instance`` label already says which), and each
# label multiplied what a scrape carries and costs. Instruments no view names keep the default
# aggregation.
HTTP_SERVER_VIEWS = [
    View(
        instrument_name="http.server.request.duration",
        attribute_keys={"http.route", "http.request.method", "http.response.status_code"},
    ),
]
URL_PATH = "url.path"
URL_QUERY = "url.query"
# Paths whose requests are neither traced nor measured: probes and scrapes, many a minute.
_UNTRACED_PATHS = re.compile("health|metrics")


def http_server_telemetry(telemetry: Telemetry) -> TelemetryConfig:
    """FastAPI's own request telemetry, with the process's providers: one server span per request,
    named by its route template, and the request duration by route, method and status. None of
    FastAPI's spans for its inner steps (dependencies, endpoint, serialization: several per
    request) and no logs of its own (the services log their errors themselves). It replaced
    OpenTelemetry's FastAPI and ASGI instrumentation, which did the same with twice the work per
    request (five metric measurements for three, every header decoded several times, the route
    matched again to name the span)."""

    def untraced(scope: MutableMapping[str, Any]) -> bool:
        return _UNTRACED_PATHS.search(str(scope.get("path", ""))) is not None

    return {
        "tracer_provider": telemetry.provider,
        "meter_provider": telemetry.meter_provider,
        "tracing": True,
        "metrics": True,
        "logs": False,
        "operation_spans": False,
        "auto_configure": False,
        "exclude": untraced,
    }


class RequestUrlRedactor(SpanProcessor):
    """Keeps a request span's URL without its query string (FHIR searches can hold patient
    identifiers; tickets travel there) and without the secret of a signed-link path (a path
    segment after one of ``capability_paths``). FastAPI's request span carries the path and the
    query as received; this rewrites them as the span starts, before anything reads or exports
    it."""

    def __init__(self, capability_paths: Sequence[str]) -> None:
        self._capability_paths = tuple(capability_paths)

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if span.kind is not SpanKind.SERVER or not span.attributes:
            return
        path = span.attributes.get(URL_PATH)
        if isinstance(path, str):
            for prefix in self._capability_paths:
                if path.startswith(prefix) and len(path) > len(prefix):
                    span.set_attribute(URL_PATH, f"{prefix}{{redacted}}")
        if URL_QUERY in span.attributes:
            span.set_attribute(URL_QUERY, "{redacted}")


# A path parameter of this name is a signed link's secret: the reader's key to the page.
SIGNED_LINK_PARAMETER = "{token}"


def signed_link_prefixes(routes: Iterable[object]) -> list[str]:
    """The path before a ``{token}`` segment of every route that has one (``/ack/{token}`` ->
    ``/ack/``): the ``capability_paths`` a service's request spans keep the secret out of, found
    from its routes so that a new signed link cannot be forgotten."""
    prefixes: list[str] = []
    for route in routes:
        if isinstance(route, APIRoute) and SIGNED_LINK_PARAMETER in route.path:
            prefix = route.path.split(SIGNED_LINK_PARAMETER, 1)[0]
            if prefix not in prefixes:
                prefixes.append(prefix)
    return prefixes


def batch_processor(exporter: SpanExporter, settings: PlatformSettings) -> BatchSpanProcessor:
    """Exports in batches from a bounded queue, off the request path: a full queue drops new
    spans (the SDK logs it) instead of holding anything up. The delay between exports stays the
    SDK's (OTEL_BSP_SCHEDULE_DELAY, 5 s)."""
    queue = settings.trace_queue_size
    return BatchSpanProcessor(
        exporter,
        max_queue_size=queue,
        max_export_batch_size=min(settings.trace_batch_size, queue),
    )


def _span_line(span: ReadableSpan) -> str:
    """One span as a JSON line, written by orjson (the standard library's encoder was most of
    this exporter's cost, which the benchmark's services pay: it counts spans in these files).
    Not ``span.to_json()``: it fails on bytes attributes (Kafka keys) and a failing span makes
    the whole export batch be dropped."""
    context = span.get_span_context()
    if context is None:  # the SDK types it Optional; a finished span has one
        raise ValueError(f"span {span.name!r} has no span context")
    document = {
        "name": span.name,
        "context": {
            "trace_id": f"0x{context.trace_id:032x}",
            "span_id": f"0x{context.span_id:016x}",
        },
        "kind": str(span.kind),
        "parent_id": f"0x{span.parent.span_id:016x}" if span.parent else None,
        "start_time": span.start_time,
        "end_time": span.end_time,
        "status": span.status.status_code.name,
        "attributes": dict(span.attributes or {}),
        "events": [event.name for event in span.events],
        "links": [
            {
                "trace_id": f"0x{link.context.trace_id:032x}",
                "span_id": f"0x{link.context.span_id:016x}",
            }
            for link in span.links
        ],
        "service": span.resource.attributes.get(SERVICE_NAME),
    }
    return orjson.dumps(document, default=_jsonable).decode() + "\n"


def _jsonable(value: object) -> object:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, tuple):
        return list(value)
    return str(value)


class _TraceContextFilter(logging.Filter):
    """Adds the current trace and span ids to every log record."""

    def __init__(self, service_name: str) -> None:
        super().__init__()
        self.service_name = service_name

    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        record.service = self.service_name
        record.trace_id = f"{context.trace_id:032x}" if context.is_valid else None
        record.span_id = f"{context.span_id:016x}" if context.is_valid else None
        return True


def configure_logging(*, service_name: str, level: str = "INFO", stream: Any = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}{service}{trace_id}{span_id}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(_TraceContextFilter(service_name))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Access logs would repeat what the FastAPI spans already record.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    # httpx logs every call at INFO with its whole URL: a webhook's path or query may be its
    # secret (the delivery spans keep the host only), and it was a log line per delivery.
    # Failures are the deliveries' own warnings and span events.
    logging.getLogger("httpx").setLevel(logging.WARNING)
