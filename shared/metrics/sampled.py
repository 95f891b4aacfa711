"""Gauges whose values come from queries: the database (outbox, dead letters, latencies) and
Kafka's offsets (consumer lag).

OpenTelemetry reads an observable gauge through a synchronous callback, at scrape time, where no
query can be awaited. So a periodic task takes the readings and the callbacks report the last
ones. A reading that could not be taken (the database away) is dropped, not kept: a stale figure
would look healthy; a missing one is what Prometheus' ``absent()`` and the alert rules notice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Protocol, TypeVar

import asyncpg
from opentelemetry import metrics
from opentelemetry.instrumentation.utils import suppress_instrumentation

from shared.workers import PeriodicTask

log = logging.getLogger(__name__)

Labels = Mapping[str, str]
# One gauge's readings: (labels, value) pairs.
Readings = Iterable[tuple[Labels, float]]


class SampledGauge:
    def __init__(self, meter: metrics.Meter, name: str, *, unit: str, description: str) -> None:
        self.name = name
        self._observations: list[metrics.Observation] = []
        meter.create_observable_gauge(
            name, callbacks=[self._observe], unit=unit, description=description
        )

    def set(self, readings: Readings) -> None:
        self._observations = [
            metrics.Observation(value, dict(labels)) for labels, value in readings
        ]

    def clear(self) -> None:
        self._observations = []

    def readings(self) -> list[tuple[dict[str, str], float]]:
        """The last readings, as the scrape reports them (the operators' console shows them)."""
        return [
            ({k: str(v) for k, v in (o.attributes or {}).items()}, float(o.value))
            for o in self._observations
        ]

    def _observe(self, _: metrics.CallbackOptions) -> list[metrics.Observation]:
        return list(self._observations)


class Source(Protocol):
    """Takes its readings and sets its gauges; raises when it cannot."""

    @property
    def gauges(self) -> Sequence[SampledGauge]: ...

    async def sample(self) -> None: ...


SourceKind = TypeVar("SourceKind")


class Sampler(PeriodicTask):
    """Runs each source every ``poll_interval_s``; a source that fails clears its gauges and is
    tried again at the next round, the others go on."""

    def __init__(self, *, name: str, sources: Sequence[Source], poll_interval_s: float) -> None:
        super().__init__(poll_interval_s=poll_interval_s)
        self.name = name
        self.sources = list(sources)

    def source(self, kind: type[SourceKind]) -> SourceKind | None:
        """The sampler's source of that kind (its last readings, for the operators' console)."""
        return next((s for s in self.sources if isinstance(s, kind)), None)

    async def tick(self) -> None:
        # Sampled every few seconds: no trace of its own.
        with suppress_instrumentation():
            for source in self.sources:
                try:
                    await source.sample()
                except Exception as error:
                    log.warning(
                        "%s: %s failed (%s: %s)",
                        self.name,
                        type(source).__name__,
                        type(error).__name__,
                        error,
                    )
                    for gauge in source.gauges:
                        gauge.clear()

    async def stop(self) -> None:
        await super().stop()
        for source in self.sources:
            close = getattr(source, "close", None)
            if close is not None:
                await close()


# Latencies are reported as quantiles over the last hour, computed by PostgreSQL from the rows
# themselves: the same figure whichever instance is scraped, and unchanged by a restart. A query
# selects them as columns q50 and q90 (percentile_cont) and takes the window as a parameter.
LATENCY_WINDOW = timedelta(hours=1)
QUANTILES = {"q50": "0.5", "q90": "0.9"}


def quantile_readings(labels: Labels, row: asyncpg.Record) -> list[tuple[Labels, float]]:
    """The ``q50, q90`` columns of a row as readings labelled ``quantile`` (None, no rows in
    the window, is no reading)."""
    readings: list[tuple[Labels, float]] = []
    for column, quantile in QUANTILES.items():
        value = row[column]
        if isinstance(value, int | float):
            readings.append(({**labels, "quantile": quantile}, float(value)))
    return readings
