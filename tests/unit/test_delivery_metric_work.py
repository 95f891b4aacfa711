"""What the notifier's per-attempt metrics cost, counted: one measurement through OpenTelemetry's
SDK per delivery attempt (its duration), not two. The attempts are tallied by the notifier and
read at each scrape, and the operators' series is unchanged:
``fasttrack_notifier_delivery_attempts_total`` by channel and outcome (the system-health
dashboard's "delivery attempts" panel)."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics._internal.measurement_consumer import (
    SynchronousMeasurementConsumer,
)
from prometheus_client import CollectorRegistry, generate_latest

from services.notifier.service.delivery_metrics import DeliveryMetrics

ATTEMPTS = 5


def test_an_attempt_is_one_sdk_measurement_and_the_attempts_series_is_unchanged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = CollectorRegistry()
    provider = MeterProvider(
        metric_readers=[
            PrometheusMetricReader(
                disable_target_info=True, scope_info_enabled=False, registry=registry
            )
        ]
    )
    metrics = DeliveryMetrics(provider.get_meter("fasttrack.notifier"))
    measured: list[str] = []
    consume = SynchronousMeasurementConsumer.consume_measurement

    def counting(self: SynchronousMeasurementConsumer, measurement: Any) -> None:
        measured.append(measurement.instrument.name)
        consume(self, measurement)

    monkeypatch.setattr(SynchronousMeasurementConsumer, "consume_measurement", counting)
    for _ in range(ATTEMPTS - 1):
        metrics.attempt(channel="webhook", outcome="sent", duration_ms=12)
    metrics.attempt(channel="sms", outcome="retry", duration_ms=2000)

    # Was 2 per attempt: the attempts counter and the duration histogram.
    assert measured == ["fasttrack.notifier.delivery.duration"] * ATTEMPTS
    scraped = generate_latest(registry).decode()
    for series in (
        'fasttrack_notifier_delivery_attempts_total{channel="webhook",outcome="sent"} 4.0',
        'fasttrack_notifier_delivery_attempts_total{channel="sms",outcome="retry"} 1.0',
        "fasttrack_notifier_delivery_duration_milliseconds_count"
        '{channel="webhook",outcome="sent"} 4.0',
    ):
        assert series in scraped, scraped
    metrics.attempt(channel="webhook", outcome="sent", duration_ms=12)
    again = generate_latest(registry).decode()
    assert 'attempts_total{channel="webhook",outcome="sent"} 5.0' in again  # still counting
    provider.shutdown()
