"""A request's telemetry is FastAPI's own: one server span, named by the route template, and the
request duration by route, method and status code, for fewer metric measurements per request.

OpenTelemetry's FastAPI and ASGI instrumentation, which it replaced, made five SDK measurements
per hospital message (requests in flight up and down, the duration, the request's and the
response's sizes, the two sizes then dropped by a view), decoded every request header several
times and matched the request against the routes again to name its span; FastAPI's telemetry
makes three. The request's URL still reaches its span without the query string (FHIR searches can
hold patient identifiers) and without a signed link's secret.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry.sdk.metrics._internal.measurement_consumer import (
    SynchronousMeasurementConsumer,
)
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.settings import PlatformSettings
from shared.telemetry import Telemetry, http_server_telemetry
from tests.support import referral_app_refusing_after_the_parse, referral_bundle


def test_a_hospitals_message_costs_three_metric_measurements(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    measured: list[str] = []
    original = SynchronousMeasurementConsumer.consume_measurement

    def counting(self: Any, measurement: Any) -> None:
        measured.append(measurement.instrument.name)
        original(self, measurement)

    monkeypatch.setattr(SynchronousMeasurementConsumer, "consume_measurement", counting)
    app = referral_app_refusing_after_the_parse()
    response = TestClient(app).post(
        "/fhir/$process-message",
        content=json.dumps(referral_bundle()[0]).encode(),
        headers={"Content-Type": "application/fhir+json"},
    )
    assert response.status_code == 403
    # Was 5: the same two for the requests in flight and the duration, and the two sizes.
    assert sorted(measured) == [
        "http.server.active_requests",
        "http.server.active_requests",
        "http.server.request.duration",
    ]


def test_a_request_span_is_named_by_its_route_and_keeps_no_query_or_secret() -> None:
    telemetry = Telemetry(
        service_name="notifier",
        settings=PlatformSettings(environment="test"),
        capability_paths=["/ack/"],
    )
    spans = InMemorySpanExporter()
    telemetry.provider.add_span_processor(SimpleSpanProcessor(spans))
    app = FastAPI(telemetry=http_server_telemetry(telemetry))

    @app.get("/ack/{token}")
    async def acknowledge(token: str) -> dict[str, str]:
        return {"ok": "yes"}

    client = TestClient(app)
    assert client.get("/ack/the-secret-token?hn=HN-12345").status_code == 200
    assert client.get("/health/live").status_code == 404  # probes are not traced
    telemetry.shutdown()

    (span,) = spans.get_finished_spans()
    assert span.name == "GET /ack/{token}"
    attributes = dict(span.attributes or {})
    assert attributes["url.path"] == "/ack/{redacted}"
    assert attributes["url.query"] == "{redacted}"
    assert attributes["http.route"] == "/ack/{token}"
    assert attributes["http.response.status_code"] == 200
    written = json.dumps(attributes)
    assert "the-secret-token" not in written
    assert "HN-12345" not in written
