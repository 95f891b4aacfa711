"""Operators see per-channel delivery counts and latency as OpenTelemetry metrics."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from services.notifier.service.delivery_metrics import DeliveryMetrics


def test_attempts_are_counted_and_timed_per_channel_and_outcome() -> None:
    reader = InMemoryMetricReader()
    metrics = DeliveryMetrics(MeterProvider(metric_readers=[reader]).get_meter("test"))
    metrics.attempt(channel="line", outcome="sent", duration_ms=120)
    metrics.attempt(channel="line", outcome="sent", duration_ms=80)
    metrics.attempt(channel="sms", outcome="retry", duration_ms=2000)
    metrics.acknowledged(channel="line")

    data = reader.get_metrics_data()
    assert data is not None
    # The SDK's point types are a union; the test reads the fields each instrument has.
    found: dict[str, Any] = {
        metric.name: metric
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }
    attempts = {
        (p.attributes["channel"], p.attributes["outcome"]): p.value
        for p in found["fasttrack.notifier.delivery.attempts"].data.data_points
    }
    assert attempts == {("line", "sent"): 2, ("sms", "retry"): 1}
    durations = {
        (p.attributes["channel"], p.attributes["outcome"]): (p.count, p.sum)
        for p in found["fasttrack.notifier.delivery.duration"].data.data_points
    }
    assert durations[("line", "sent")] == (2, 200)
    acknowledgements = found["fasttrack.notifier.acknowledgements"].data.data_points
    assert [(p.attributes["channel"], p.value) for p in acknowledgements] == [("line", 1)]
