"""The teleconsult's times in the KPI report, from the steps on the referral's timeline:
door-to-request (target 15 min), request-to-acknowledgement, acknowledgement-to-video and
video-to-decision, counted for the spoke; a step that never came leaves its interval out."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from services.referral.domain.alerts import AlertCode, due_alerts
from services.referral.domain.clock import Milestone
from services.referral.domain.consult_times import consult_metrics
from services.referral.domain.kpi import kpi_report, outcomes_of
from services.referral.domain.model import TimelineEntry
from shared.province_time import PROVINCE_ZONE
from shared.vocabulary.milestones import MilestoneCode

DOOR = datetime(2026, 3, 10, 9, 0, tzinfo=PROVINCE_ZONE)
SPOKE = "sikao-hospital"


def at(minutes: float) -> datetime:
    return DOOR + timedelta(minutes=minutes)


def step(
    event: str, minutes: float, stage: str | None = None, consult: str = "tc-1"
) -> TimelineEntry:
    detail: dict[str, Any] = {"consult": consult, **({"stage": stage} if stage else {})}
    return TimelineEntry(
        event_code=event,
        occurred_at=at(minutes),
        recorded_at=at(minutes),
        source="Organization/x",
        detail=detail,
    )


def door(uncertain: bool = False) -> Milestone:
    return Milestone(MilestoneCode.DOOR_IN_FIRST, DOOR, DOOR, uncertain=uncertain, hospital=SPOKE)


WHOLE = [
    step("teleconsult-requested", 12, "requested"),
    step("teleconsult-updated", 12, "paging"),
    step("teleconsult-updated", 17, "paging"),  # escalated: not an acknowledgement
    step("teleconsult-updated", 18, "accepted"),
    step("teleconsult-updated", 21, "in-video"),
    step("teleconsult-recommended", 33, "recommended"),
    step("teleconsult-recommended", 40, "recommended"),  # an amendment: not the decision
]
CASES: list[tuple[str, list[TimelineEntry], dict[str, int]]] = [
    (
        "the whole consult",
        WHOLE,
        {
            "door-to-consult-request": 12,
            "consult-request-to-acknowledgement": 6,
            "consult-acknowledgement-to-video": 3,
            "consult-video-to-decision": 12,
        },
    ),
    (
        "paged late, nobody answered",
        [step("teleconsult-requested", 19)],
        {"door-to-consult-request": 19},
    ),
    (
        "advice by telephone, no video",
        [
            step("teleconsult-requested", 5),
            step("teleconsult-updated", 7, "accepted"),
            step("teleconsult-recommended", 20),
        ],
        {"door-to-consult-request": 5, "consult-request-to-acknowledgement": 2},
    ),
    ("no consult", [step("referral-accepted", 5)], {}),
    (
        "a first consult failed to connect, a second was answered",
        [
            step("teleconsult-requested", 10, consult="tc-1"),
            step("teleconsult-updated", 25, "failed", consult="tc-1"),
            step("teleconsult-requested", 30, consult="tc-2"),
            step("teleconsult-updated", 33, "accepted", consult="tc-2"),
            step("teleconsult-updated", 35, "in-video", consult="tc-2"),
            step("teleconsult-recommended", 45, consult="tc-2"),
        ],
        {
            "door-to-consult-request": 10,
            # tc-2's own wait (3 min), not the 23 min since tc-1 was asked for.
            "consult-request-to-acknowledgement": 3,
            "consult-acknowledgement-to-video": 2,
            "consult-video-to-decision": 10,
        },
    ),
    (
        "two consults of a re-routed patient, both answered: the first answered counts",
        [
            step("teleconsult-requested", 8, consult="tc-1"),
            step("teleconsult-updated", 12, "accepted", consult="tc-1"),
            step("teleconsult-requested", 40, consult="tc-2"),
            step("teleconsult-updated", 41, "accepted", consult="tc-2"),
            step("teleconsult-updated", 42, "in-video", consult="tc-2"),
        ],
        {"door-to-consult-request": 8, "consult-request-to-acknowledgement": 4},
    ),
]


@pytest.mark.parametrize(("case", "steps", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_interval_comes_from_the_first_time_of_its_steps(
    case: str, steps: list[TimelineEntry], expected: dict[str, int]
) -> None:
    found = consult_metrics(door=door(), steps=steps, hospital=SPOKE)
    assert {code: metric.minutes for code, metric in found.items()} == expected
    assert all(metric.hospital == SPOKE for metric in found.values())


def test_door_to_request_is_met_within_15_minutes_and_uncertain_with_the_door() -> None:
    on_time = consult_metrics(door=door(), steps=WHOLE[:1], hospital=SPOKE)
    late = consult_metrics(
        door=door(uncertain=True), steps=[step("teleconsult-requested", 16)], hospital=SPOKE
    )
    assert on_time["door-to-consult-request"].met is True
    assert late["door-to-consult-request"].met is False
    assert late["door-to-consult-request"].uncertain is True


def test_the_kpi_report_shows_the_spokes_consult_medians() -> None:
    outcomes = [
        *outcomes_of([door()], WHOLE),
        *outcomes_of([door()], [step("teleconsult-requested", 19)]),
        *outcomes_of([door()], []),
    ]
    (row,) = kpi_report(outcomes)
    assert (row["hospital_id"], row["patients"]) == (SPOKE, 3)
    assert {column: value for column, value in row.items() if "consult" in column} == {
        "consult_count": 2,
        "door_to_consult_request_le_15_pct": 50.0,
        "door_to_consult_request_median_min": 15.5,
        "consult_request_to_ack_median_min": 6.0,
        "consult_ack_to_video_median_min": 3.0,
        "consult_video_to_decision_median_min": 12.0,
    }


@pytest.mark.parametrize(
    ("requested_after_min", "alerted"), [(None, False), (10, False), (15, False), (16, True)]
)
def test_the_spoke_is_alerted_when_the_consult_came_more_than_15_minutes_after_door_in(
    requested_after_min: int | None, alerted: bool
) -> None:
    requested = at(requested_after_min) if requested_after_min is not None else None
    due = due_alerts([door()], now=at(30), consult_requested_at=requested)
    late = [a for a in due if a.code is AlertCode.CONSULT_REQUESTED_LATE]
    assert bool(late) is alerted
    if late:
        assert late[0].due_at == late[0].breach_at == at(15)


@pytest.mark.parametrize(
    ("now_after_min", "requested_after_min", "alerted"),
    [
        (14, None, False),  # the 15 min have not passed yet
        (16, None, True),  # passed, and still no request: due at 15 min, without any event
        (16, 10, False),  # asked for in time
        (30, 20, True),  # asked for late
    ],
)
def test_a_referral_that_asks_for_a_consult_alerts_the_spoke_once_15_minutes_pass_without_one(
    now_after_min: int, requested_after_min: int | None, alerted: bool
) -> None:
    requested = at(requested_after_min) if requested_after_min is not None else None
    due = due_alerts(
        [door()], now=at(now_after_min), consult_requested_at=requested, consult_expected=True
    )
    late = [a for a in due if a.code is AlertCode.CONSULT_REQUESTED_LATE]
    assert bool(late) is alerted
    if late:
        assert late[0].due_at == at(15)
