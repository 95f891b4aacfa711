"""Per-channel delivery counters and latency (OpenTelemetry metrics) for the operators."""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation


class DeliveryMetrics:
    def __init__(self, meter: metrics.Meter) -> None:
        # Attempts are tallied here and read by the SDK when /metrics is scraped (an
        # asynchronous counter, OpenTelemetry's own): a synchronous Counter.add per attempt
        # built a measurement, hashed its attributes, took a lock and offered an exemplar, about
        # 1 % of the notifier's samples in the profile, to say what this tally says. The
        # Prometheus series is the same: fasttrack_notifier_delivery_attempts_total.
        self._attempt_counts: dict[tuple[str, str], int] = {}
        meter.create_observable_counter(
            "fasttrack.notifier.delivery.attempts",
            callbacks=[self._observe_attempts],
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
        key = (channel, outcome)
        self._attempt_counts[key] = self._attempt_counts.get(key, 0) + 1
        self._duration.record(duration_ms, {"channel": channel, "outcome": outcome})

    def sent_with_request(self, *, channel: str, count: int) -> None:
        """``count`` deliveries sent by the statement that recorded their request (an in-app
        delivery's live event): attempts that sent, in the attempts series; no send timed."""
        key = (channel, "sent")
        self._attempt_counts[key] = self._attempt_counts.get(key, 0) + count

    def acknowledged(self, *, channel: str) -> None:
        self._acknowledged.add(1, {"channel": channel})

    def _observe_attempts(self, options: CallbackOptions) -> Iterable[Observation]:
        # A copy taken at once: the tally may grow while the scrape reads it.
        counts = list(self._attempt_counts.items())
        return [
            Observation(count, {"channel": channel, "outcome": outcome})
            for (channel, outcome), count in counts
        ]
