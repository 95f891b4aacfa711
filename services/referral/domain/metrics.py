"""Stroke fast-track metrics and treatment-window countdowns, each defined for the role of the
hospital where its milestones happened (docs/clinical-metrics.md gives every definition and its
source). Pure functions over a patient's clock.

Durations are whole minutes, to the nearest minute (30 s and over round up); a target is met
when that whole-minute duration is at or under it, as an audit that reads minute-stamped times
would count it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from services.referral.domain.clock import Clock, Milestone, Place, require_aware
from services.referral.domain.readable_time import minutes_left, whole_minutes
from services.referral.domain.windows import TreatmentWindow
from shared.vocabulary.milestones import MilestoneCode


@dataclass(frozen=True)
class Metric:
    code: str
    minutes: int
    target_minutes: int | None
    met: bool | None  # None when the metric has no target
    uncertain: bool  # any input uncertain or estimated
    # The hospital the metric is counted for (None: the patient's, e.g. onset-to-door).
    hospital: str | None = None


M = MilestoneCode
FIRST, RECEIVING = Place.FIRST, Place.RECEIVING
ANYWHERE = None
# (metric, start, end, where the end must have happened, target minutes, counted for).
# The start is the door of the same hospital role; sources in docs/clinical-metrics.md.
_Span = tuple[str, MilestoneCode, MilestoneCode, Place | None, int | None, Place | None]
_SPANS: tuple[_Span, ...] = (
    ("onset-to-door", M.LAST_KNOWN_WELL, M.DOOR_IN_FIRST, ANYWHERE, 120, FIRST),  # GWTG 2 h
    ("door-to-physician", M.DOOR_IN_FIRST, M.PHYSICIAN_SEEN, FIRST, 10, FIRST),  # Thai SFT
    ("door-to-ct", M.DOOR_IN_FIRST, M.CT_STARTED, FIRST, 25, FIRST),  # Thai MOPH KPI
    ("referral-response", M.REFERRAL_REQUESTED, M.REFERRAL_ACCEPTED, ANYWHERE, 10, None),
    ("door-to-needle", M.DOOR_IN_FIRST, M.NEEDLE, FIRST, 60, FIRST),  # spoke DTN
    ("hub-door-to-needle", M.DOOR_IN_RECEIVING, M.NEEDLE, RECEIVING, 60, RECEIVING),  # hub DTN
    ("dido", M.DOOR_IN_FIRST, M.DOOR_OUT_FIRST, ANYWHERE, 120, FIRST),  # Stamm, JAMA 2023
    ("dido-90", M.DOOR_IN_FIRST, M.DOOR_OUT_FIRST, ANYWHERE, 90, FIRST),  # Royan 2026
    ("closure", M.REFERRAL_REQUESTED, M.LOOP_CLOSED, ANYWHERE, None, None),  # no time target
)
# Door-to-device (groin puncture) counts from the door of the hospital that punctures
# (AHA Target: Stroke III): 60 min for a transferred patient, 90 min for one who came directly.
DEVICE_TARGET_TRANSFER = 60
DEVICE_TARGET_DIRECT = 90


def _span(
    code: str, start: Milestone, end: Milestone, target: int | None, hospital: str | None
) -> Metric:
    if end.occurred_at < start.occurred_at:
        # A clock error somewhere: do not report a flattering negative time.
        raise ValueError(
            f"{end.code.value} ({end.occurred_at.isoformat()}) is before "
            f"{start.code.value} ({start.occurred_at.isoformat()})"
        )
    minutes = whole_minutes(end.occurred_at - start.occurred_at)
    met = None if target is None else minutes <= target
    return Metric(code, minutes, target, met, start.doubtful or end.doubtful, hospital)


def compute_metrics(
    milestones: Iterable[Milestone], *, eta: datetime | None = None
) -> dict[str, Metric]:
    """Every metric whose two milestones are known; raises ValueError on a negative duration."""
    clock = Clock(milestones)
    hospital_of = {FIRST: clock.first_hospital, RECEIVING: clock.receiving_hospital}
    out: dict[str, Metric] = {}
    for code, start_code, end_code, place, target, counted_for in _SPANS:
        start = clock.get(start_code)
        end = clock.get(end_code) if place is None else clock.at(end_code, place)
        if start is not None and end is not None:
            hospital = hospital_of[counted_for] if counted_for is not None else None
            out[code] = _span(code, start, end, target, hospital)
    needle = clock.earliest(M.NEEDLE)
    lkw = clock.get(M.LAST_KNOWN_WELL)
    if needle is not None and lkw is not None:  # wherever it was given: no published target
        out["onset-to-needle"] = _span("onset-to-needle", lkw, needle, None, None)
    arrived = clock.get(M.DOOR_IN_RECEIVING)
    if eta is not None and arrived is not None:
        require_aware("eta", eta)
        # Minutes late against the ETA (negative = early, which is fine: ThaiRefer's ETA concept).
        late = whole_minutes(arrived.occurred_at - eta)
        out["transport-vs-eta"] = Metric(
            "transport-vs-eta", late, 0, late <= 0, arrived.doubtful, clock.receiving_hospital
        )
    device = _door_to_device(clock)
    if device is not None:
        out["door-to-device"] = device
    return out


def _door_to_device(clock: Clock) -> Metric | None:
    transferred = clock.at(M.GROIN_PUNCTURE, RECEIVING)
    door = clock.get(M.DOOR_IN_RECEIVING)
    if transferred is not None and door is not None:
        return _span(
            "door-to-device", door, transferred, DEVICE_TARGET_TRANSFER, clock.receiving_hospital
        )
    direct = clock.at(M.GROIN_PUNCTURE, FIRST)
    door = clock.get(M.DOOR_IN_FIRST)
    if direct is not None and door is not None:
        return _span("door-to-device", door, direct, DEVICE_TARGET_DIRECT, clock.first_hospital)
    return None


@dataclass(frozen=True)
class WindowCountdown:
    code: TreatmentWindow
    closes_at: datetime
    minutes_left: int  # whole minutes, rounded down; negative once closed
    uncertain: bool


def window_countdowns(milestones: Iterable[Milestone], *, now: datetime) -> list[WindowCountdown]:
    require_aware("now", now)
    lkw = Clock(milestones).get(M.LAST_KNOWN_WELL)
    if lkw is None:
        return []
    return [
        WindowCountdown(
            window,
            lkw.occurred_at + window.length,
            minutes_left(lkw.occurred_at + window.length - now),
            lkw.doubtful,
        )
        for window in TreatmentWindow
    ]
