"""Per-channel delivery counters and latency (OpenTelemetry metrics) for the operators."""

from __future__ import annotations

from opentelemetry import metrics


class DeliveryMetrics:
    def __init__(self, meter: metrics.Meter) -> None:
        self._attempts = meter.create_counter(
            "fasttrack.notifier.delivery.attempts",
            unit="{attempt}",
            description="Delivery attempts by channel and outcome (sent, retry, failed)",
        )
        self._duration = meter.create_histogram(
            "fasttrack.notifier.delivery.duration",
            unit="ms",
            description="Time one delivery attempt took, by channel and outcome",
        )
        self._acknowledged = meter.create_counter(
            "fasttrack.notifier.acknowledgements",
            unit="{acknowledgement}",
            description="Alerts acknowledged, by channel",
        )

    def attempt(self, *, channel: str, outcome: str, duration_ms: float) -> None:
        attributes = {"channel": channel, "outcome": outcome}
        self._attempts.add(1, attributes)
        self._duration.record(duration_ms, attributes)

    def acknowledged(self, *, channel: str) -> None:
        self._acknowledged.add(1, {"channel": channel})
