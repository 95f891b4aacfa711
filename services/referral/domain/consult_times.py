"""The teleconsult's times, from the steps telemedicine reports on the referral's timeline:
door-in to the consult requested (the spoke's; paging before 15 min is the target, since a page
later than that went with eight times the odds of missing a door-to-needle of 60 min),
request to acknowledgement, acknowledgement to video and video to decision. Pure functions;
the KPI report (kpi.py) shows their medians per hospital and month."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from services.referral.domain.clock import Milestone
from services.referral.domain.metrics import Metric
from services.referral.domain.model import TimelineEntry
from services.referral.domain.readable_time import whole_minutes

DOOR_TO_REQUEST = "door-to-consult-request"
REQUEST_TO_ACKNOWLEDGEMENT = "consult-request-to-acknowledgement"
ACKNOWLEDGEMENT_TO_VIDEO = "consult-acknowledgement-to-video"
VIDEO_TO_DECISION = "consult-video-to-decision"
DOOR_TO_REQUEST_TARGET_MIN = 15

# KPI column -> the metric whose median it shows.
CONSULT_MEDIANS: Mapping[str, str] = {
    "door_to_consult_request_median_min": DOOR_TO_REQUEST,
    "consult_request_to_ack_median_min": REQUEST_TO_ACKNOWLEDGEMENT,
    "consult_ack_to_video_median_min": ACKNOWLEDGEMENT_TO_VIDEO,
    "consult_video_to_decision_median_min": VIDEO_TO_DECISION,
}
CONSULT_COLUMNS: tuple[str, ...] = (
    "consult_count",
    "door_to_consult_request_le_15_pct",
    *CONSULT_MEDIANS,
)


@dataclass(frozen=True)
class _ConsultClock:
    requested: datetime | None = None
    acknowledged: datetime | None = None
    video: datetime | None = None
    decided: datetime | None = None


def _clocks(steps: Iterable[TimelineEntry]) -> dict[str, _ConsultClock]:
    """Each consult's clock (by the consult id its steps name): the first time of each step (a
    later amendment or a repeat changes nothing)."""
    firsts: dict[str, dict[str, datetime]] = {}
    for step in sorted(steps, key=lambda s: s.occurred_at):
        stage = step.detail.get("stage")
        name = {
            "teleconsult-requested": "requested",
            "teleconsult-recommended": "decided",
        }.get(step.event_code) or {"accepted": "acknowledged", "in-video": "video"}.get(
            str(stage) if step.event_code == "teleconsult-updated" else ""
        )
        if name is not None:
            consult = str(step.detail.get("consult", ""))
            firsts.setdefault(consult, {}).setdefault(name, step.occurred_at)
    return {consult: _ConsultClock(**times) for consult, times in firsts.items()}


def consult_metrics(
    *, door: Milestone | None, steps: Iterable[TimelineEntry], hospital: str | None
) -> dict[str, Metric]:
    """The consult's four intervals that are known, counted for ``hospital`` (the spoke).

    A patient may have had several consults (a re-routed referral asks again; a consult failed
    and another was asked for): the spoke paged at its first request; the answer's intervals
    are those of the consult answered first, each from its own request (mixing two consults'
    times would count a failed page's wait as the answer's)."""
    clocks = _clocks(steps).values()
    first_request = min((c.requested for c in clocks if c.requested is not None), default=None)
    answered = sorted(
        ((c.acknowledged, c) for c in clocks if c.acknowledged is not None),
        key=lambda pair: pair[0],
    )
    clock = answered[0][1] if answered else _ConsultClock()
    spans = (
        (DOOR_TO_REQUEST, door.occurred_at if door else None, first_request),
        (REQUEST_TO_ACKNOWLEDGEMENT, clock.requested, clock.acknowledged),
        (ACKNOWLEDGEMENT_TO_VIDEO, clock.acknowledged, clock.video),
        (VIDEO_TO_DECISION, clock.video, clock.decided),
    )
    found: dict[str, Metric] = {}
    for code, start, end in spans:
        if start is None or end is None or end < start:
            continue
        minutes = whole_minutes(end - start)
        target = DOOR_TO_REQUEST_TARGET_MIN if code == DOOR_TO_REQUEST else None
        found[code] = Metric(
            code=code,
            minutes=minutes,
            target_minutes=target,
            met=minutes <= target if target is not None else None,
            uncertain=bool(code == DOOR_TO_REQUEST and door is not None and door.doubtful),
            hospital=hospital,
        )
    return found


def consult_columns(metrics: Iterable[Mapping[str, Metric]]) -> dict[str, object]:
    """The KPI row's consult columns for a group of patients' metrics."""
    group = list(metrics)

    def minutes(code: str) -> list[int]:
        return [m[code].minutes for m in group if code in m]

    door = minutes(DOOR_TO_REQUEST)
    return {
        "consult_count": sum(
            REQUEST_TO_ACKNOWLEDGEMENT in m or DOOR_TO_REQUEST in m for m in group
        ),
        "door_to_consult_request_le_15_pct": (
            round(100 * sum(v <= DOOR_TO_REQUEST_TARGET_MIN for v in door) / len(door), 1)
            if door
            else None
        ),
        **{
            column: round(float(statistics.median(values)), 1) if values else None
            for column, code in CONSULT_MEDIANS.items()
            for values in (minutes(code),)
        },
    }
