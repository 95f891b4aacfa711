"""The network's stroke KPIs as gauges (the same figures as ``GET /reports/kpi``, computed by
services/referral/domain/kpi.py): per hospital, for the current Bangkok month, the median minutes
and the share of patients within the target of door-to-needle, door-in-door-out and door-to-CT.

Aggregates per hospital and month only: no patient, referral or time of a patient is a label.
Recomputed at most every ``FT_REFERRAL_KPI_METRICS_INTERVAL_S`` (default a minute): every
patient of the month is read again, by one statement whose rows come a few hundred at a time
(one statement per patient made each round as many round trips as the month had patients:
36,000 a minute by the end of a 30-minute soak at 20 referrals/s).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg
from opentelemetry import metrics

from services.referral.adapters import clock_repository
from services.referral.domain.clock import bangkok_month
from services.referral.domain.kpi import HospitalOutcome, kpi_report, outcomes_of
from shared.metrics.sampled import Labels, SampledGauge

# KPI -> (the report's median column, its share-within-target column, the target in minutes).
# Targets: AHA Target: Stroke (door-to-needle 60 min) and the DIDO and door-to-CT goals of
# docs/clinical-metrics.md.
KPIS: dict[str, tuple[str, str, int]] = {
    "door-to-needle": ("dtn_median_min", "dtn_le_60_pct", 60),
    "dido": ("dido_median_min", "dido_le_120_pct", 120),
    "door-to-ct": ("door_to_ct_median_min", "door_to_ct_le_25_pct", 25),
}
# Patients whose referral began within this long can have a door-in this month.
_CLOCKS_OF_THE_MONTH = timedelta(days=32)


class KpiGauges:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        meter: metrics.Meter,
        every_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pool = pool
        self._every_s = every_s
        self._clock = clock
        self._last: float | None = None
        self.patients = SampledGauge(
            meter,
            "fasttrack.kpi.patients",
            unit="{patient}",
            description="Stroke patients counted this month, by hospital",
        )
        self.median = SampledGauge(
            meter,
            "fasttrack.kpi.median",
            unit="min",
            description="Median minutes this month, by hospital and KPI",
        )
        self.within_target = SampledGauge(
            meter,
            "fasttrack.kpi.within_target_ratio",
            unit="1",
            description="Share of this month's patients within the KPI's target, by hospital",
        )
        meter.create_observable_gauge(
            "fasttrack.kpi.target",
            callbacks=[
                lambda _: [
                    metrics.Observation(target, {"kpi": kpi})
                    for kpi, (_, _, target) in KPIS.items()
                ]
            ],
            unit="min",
            description="The target each KPI is measured against",
        )
        self.gauges = (self.patients, self.median, self.within_target)

    async def sample(self) -> None:
        now = self._clock()
        if self._last is not None and now - self._last < self._every_s:
            return
        month = bangkok_month(datetime.now(UTC))
        outcomes: list[HospitalOutcome] = []
        async with (
            self._pool.acquire() as connection,
            # Closed here even when a patient's outcome fails: its transaction ends with it.
            contextlib.aclosing(
                clock_repository.each_recent_clock(connection, within=_CLOCKS_OF_THE_MONTH)
            ) as clocks,
        ):
            async for milestones in clocks:
                with contextlib.suppress(ValueError):  # two times contradict: not countable
                    outcomes.extend(o for o in outcomes_of(milestones) if o.month == month)
        report = kpi_report(outcomes)
        self.patients.set(
            ({"hospital": str(line["hospital_id"])}, _number(line["patients"])) for line in report
        )
        medians: list[tuple[Labels, float]] = []
        shares: list[tuple[Labels, float]] = []
        for line in report:
            for kpi, (median, share, _) in KPIS.items():
                labels = {"hospital": str(line["hospital_id"]), "kpi": kpi}
                if line[median] is not None:
                    medians.append((labels, _number(line[median])))
                if line[share] is not None:
                    shares.append((labels, _number(line[share]) / 100))
        self.median.set(medians)
        self.within_target.set(shares)
        self._last = now


def _number(value: object) -> float:
    if not isinstance(value, int | float):
        raise TypeError(f"a KPI figure is a number, not {value!r}")
    return float(value)
