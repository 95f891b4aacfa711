"""Monthly stroke KPIs per hospital: each patient counted once, at the hospitals where the
milestones happened (docs/clinical-metrics.md). A spoke is measured on its own door-to-needle,
door-to-CT and door-in-door-out; a hub on the needles it gave from its own door and its
door-to-device. Months are Bangkok calendar months of the patient's door-in at that hospital.
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from services.referral.domain.clock import Clock, Milestone, bangkok_month
from services.referral.domain.consult_times import CONSULT_COLUMNS, consult_columns, consult_metrics
from services.referral.domain.metrics import Metric, compute_metrics
from services.referral.domain.model import TimelineEntry
from shared.vocabulary.milestones import MilestoneCode

M = MilestoneCode


@dataclass(frozen=True)
class HospitalOutcome:
    """One patient at one hospital: the metrics that hospital is measured on."""

    hospital_id: str
    month: str  # "YYYY-MM", Bangkok local month of the patient's door-in there
    # "door-to-needle", "dido", "dido-90", "door-to-ct", "door-to-device", each if known.
    metrics: Mapping[str, Metric]
    lkw_uncertain: bool = False  # a wake-up or unwitnessed stroke: onset times are estimates

    def __post_init__(self) -> None:
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", self.month):
            raise ValueError(f"month must be YYYY-MM: {self.month!r}")


# What each role is measured on: KPI name -> the patient's metric.
FIRST_HOSPITAL_METRICS = {
    "door-to-needle": "door-to-needle",
    "door-to-ct": "door-to-ct",
    "dido": "dido",
}
RECEIVING_HOSPITAL_METRICS = {"door-to-needle": "hub-door-to-needle"}


def outcomes_of(
    milestones: Iterable[Milestone], consult_steps: Iterable[TimelineEntry] = ()
) -> list[HospitalOutcome]:
    """The patient's outcome at each hospital it came through (first, then receiving); a
    hospital without its door-in time cannot be placed in a month and is left out. The
    teleconsult's times (``consult_steps``, from the timeline) count for the first hospital."""
    known = list(milestones)
    clock = Clock(known)
    metrics = compute_metrics(known)
    lkw = clock.get(M.LAST_KNOWN_WELL)
    lkw_uncertain = lkw is not None and lkw.doubtful
    found: list[HospitalOutcome] = []
    for door_code, hospital, names in (
        (M.DOOR_IN_FIRST, clock.first_hospital, FIRST_HOSPITAL_METRICS),
        (M.DOOR_IN_RECEIVING, clock.receiving_hospital, RECEIVING_HOSPITAL_METRICS),
    ):
        door = clock.get(door_code)
        if door is None or hospital is None:
            continue
        own = {kpi: metrics[code] for kpi, code in names.items() if code in metrics}
        device = metrics.get("door-to-device")
        if device is not None and device.hospital == hospital:
            own["door-to-device"] = device
        if door_code is M.DOOR_IN_FIRST:
            own.update(consult_metrics(door=door, steps=consult_steps, hospital=hospital))
        found.append(HospitalOutcome(hospital, bangkok_month(door.occurred_at), own, lkw_uncertain))
    return found


KPI_COLUMNS: tuple[str, ...] = (
    "hospital_id",
    "month",
    "patients",
    "dtn_count",
    "dtn_le_60_pct",
    "dtn_le_45_pct",
    "dtn_le_30_pct",
    "dtn_median_min",
    "dtn_uncertain_count",
    "dido_count",
    "dido_le_120_pct",
    "dido_le_90_pct",
    "dido_median_min",
    "dido_uncertain_count",
    "door_to_ct_count",
    "door_to_ct_le_25_pct",
    "door_to_ct_median_min",
    "door_to_device_count",
    "door_to_device_median_min",
    "lkw_uncertain_count",
    *CONSULT_COLUMNS,
)


def _pct(values: list[int], limit: int) -> float | None:
    # Goals are shares of patients (AHA Target: Stroke III >= 85/75/50 % within 60/45/30 min,
    # MOPH >= 65 % within 60 min), reported as percentages to one decimal.
    return round(100 * sum(v <= limit for v in values) / len(values), 1) if values else None


def _median(values: list[int]) -> float | None:
    return round(float(statistics.median(values)), 1) if values else None


def kpi_report(outcomes: Iterable[HospitalOutcome]) -> list[dict[str, object]]:
    """One row per (hospital, month), sorted; keys in ``KPI_COLUMNS`` order. Uncertain
    durations are counted in the shares and medians, and their number is reported beside."""
    groups: dict[tuple[str, str], list[HospitalOutcome]] = {}
    for outcome in outcomes:
        groups.setdefault((outcome.hospital_id, outcome.month), []).append(outcome)
    rows: list[dict[str, object]] = []
    for (hospital_id, month), group in sorted(groups.items()):

        def metrics(code: str, group: list[HospitalOutcome] = group) -> list[Metric]:
            return [o.metrics[code] for o in group if code in o.metrics]

        dtn, dido, ct, device = (
            metrics(code) for code in ("door-to-needle", "dido", "door-to-ct", "door-to-device")
        )
        dtn_min, dido_min, ct_min = ([m.minutes for m in ms] for ms in (dtn, dido, ct))
        rows.append(
            {
                "hospital_id": hospital_id,
                "month": month,
                "patients": len(group),
                "dtn_count": len(dtn),
                "dtn_le_60_pct": _pct(dtn_min, 60),
                "dtn_le_45_pct": _pct(dtn_min, 45),
                "dtn_le_30_pct": _pct(dtn_min, 30),
                "dtn_median_min": _median(dtn_min),
                "dtn_uncertain_count": sum(m.uncertain for m in dtn),
                "dido_count": len(dido),
                "dido_le_120_pct": _pct(dido_min, 120),
                "dido_le_90_pct": _pct(dido_min, 90),
                "dido_median_min": _median(dido_min),
                "dido_uncertain_count": sum(m.uncertain for m in dido),
                "door_to_ct_count": len(ct),
                "door_to_ct_le_25_pct": _pct(ct_min, 25),
                "door_to_ct_median_min": _median(ct_min),
                "door_to_device_count": len(device),
                "door_to_device_median_min": _median([m.minutes for m in device]),
                "lkw_uncertain_count": sum(o.lkw_uncertain for o in group),
                **consult_columns(o.metrics for o in group),
            }
        )
    return rows


def kpi_csv(rows: Iterable[Mapping[str, object]]) -> str:
    """The report as CSV (RFC 4180, CRLF line ends); None becomes an empty cell."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=KPI_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
