"""Hand-computed stroke timelines: every metric and KPI figure of each, worked out by hand from
the definitions in docs/clinical-metrics.md (spoke DTN, hub door-to-needle, DIDO at the spoke,
door-to-device at the hub), including re-routes, no needle, an uncertain LKW, out-of-order and
corrected times, cross-midnight and month boundaries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from services.referral.domain.clock import Milestone, TimeSource
from services.referral.domain.kpi import kpi_report, outcomes_of
from services.referral.domain.metrics import compute_metrics
from shared.province_time import PROVINCE_ZONE
from shared.vocabulary.milestones import MilestoneCode

M = MilestoneCode
BKK = PROVINCE_ZONE
SPOKE, HUB, DECLINED = "sikao", "trang", "palian"
EST = TimeSource.ESTIMATED


def bkk(text: str) -> datetime:
    """ "2026-03-10 09:00" (or with seconds) on the Bangkok clock."""
    return datetime.fromisoformat(text).replace(tzinfo=BKK)


def m(
    code: MilestoneCode,
    when: str,
    hospital: str | None,
    *,
    recorded: str | None = None,
    source: TimeSource = TimeSource.RECORDED,
) -> Milestone:
    occurred = bkk(when)
    return Milestone(
        code,
        occurred,
        bkk(recorded) if recorded else occurred + timedelta(minutes=1),
        source,
        source is EST,
        hospital,
    )


@dataclass(frozen=True)
class Case:
    milestones: list[Milestone]
    # metric -> (whole minutes, met, uncertain, hospital counted for)
    metrics: dict[str, tuple[int, bool | None, bool, str | None]]
    # (hospital, Bangkok month) -> {KPI metric: minutes}; lkw uncertain flag per hospital
    kpi: dict[tuple[str, str], dict[str, int]]
    lkw_uncertain: bool = False


CASES: dict[str, Case] = {
    "needle-at-the-spoke-then-thrombectomy-at-the-hub": Case(
        [
            m(M.LAST_KNOWN_WELL, "2026-03-10 08:00", SPOKE),
            m(M.DOOR_IN_FIRST, "2026-03-10 09:00", SPOKE),
            m(M.CT_STARTED, "2026-03-10 09:20", SPOKE),
            m(M.NEEDLE, "2026-03-10 09:45", SPOKE),
            m(M.DOOR_OUT_FIRST, "2026-03-10 10:50", SPOKE),
            m(M.DOOR_IN_RECEIVING, "2026-03-10 11:40", HUB),
            m(M.GROIN_PUNCTURE, "2026-03-10 12:25", HUB),
        ],
        {
            "onset-to-door": (60, True, False, SPOKE),
            "door-to-ct": (20, True, False, SPOKE),
            "door-to-needle": (45, True, False, SPOKE),
            "onset-to-needle": (105, None, False, None),
            "dido": (110, True, False, SPOKE),
            "dido-90": (110, False, False, SPOKE),
            "door-to-device": (45, True, False, HUB),  # from the hub's door, transfer target 60
        },
        {
            (SPOKE, "2026-03"): {"door-to-needle": 45, "door-to-ct": 20, "dido": 110},
            (HUB, "2026-03"): {"door-to-device": 45},
        },
    ),
    "needle-at-the-hub-is-the-hubs-not-the-spokes-dtn": Case(
        [
            m(M.DOOR_IN_FIRST, "2026-03-11 09:20", SPOKE),
            m(M.DOOR_OUT_FIRST, "2026-03-11 10:35", SPOKE),
            m(M.DOOR_IN_RECEIVING, "2026-03-11 11:00", HUB),
            m(M.NEEDLE, "2026-03-11 11:20", HUB),
        ],
        {
            "hub-door-to-needle": (20, True, False, HUB),
            "dido": (75, True, False, SPOKE),
            "dido-90": (75, True, False, SPOKE),
        },
        {(SPOKE, "2026-03"): {"dido": 75}, (HUB, "2026-03"): {"door-to-needle": 20}},
    ),
    "hub-needle-reported-before-the-hubs-door-in-is-nobodys-dtn-yet": Case(
        [
            m(M.DOOR_IN_FIRST, "2026-03-12 09:20", SPOKE),
            m(M.NEEDLE, "2026-03-12 11:20", HUB),
        ],
        {},
        {(SPOKE, "2026-03"): {}},
    ),
    "re-routed-across-midnight-and-the-month-end": Case(
        # Declined by Palian (nothing happened there), accepted by Trang; the hub's door-in is
        # after midnight on 1 November, so the hub counts the patient in November.
        [
            m(M.DOOR_IN_FIRST, "2026-10-31 22:10", SPOKE),
            m(M.CT_STARTED, "2026-10-31 22:25", SPOKE),
            m(M.REFERRAL_REQUESTED, "2026-10-31 22:30", SPOKE),
            m(M.REFERRAL_ACCEPTED, "2026-10-31 22:52", HUB),
            m(M.NEEDLE, "2026-10-31 22:58", SPOKE),
            m(M.DOOR_OUT_FIRST, "2026-10-31 23:35", SPOKE),
            m(M.DOOR_IN_RECEIVING, "2026-11-01 00:20", HUB),
        ],
        {
            "door-to-ct": (15, True, False, SPOKE),
            "referral-response": (22, False, False, None),  # from the first ask, local SLA 10
            "door-to-needle": (48, True, False, SPOKE),
            "dido": (85, True, False, SPOKE),
            "dido-90": (85, True, False, SPOKE),
        },
        {
            (SPOKE, "2026-10"): {"door-to-needle": 48, "door-to-ct": 15, "dido": 85},
            (HUB, "2026-11"): {},
        },
    ),
    "no-needle": Case(
        [
            m(M.DOOR_IN_FIRST, "2026-03-13 14:00", SPOKE),
            m(M.CT_STARTED, "2026-03-13 14:31", SPOKE),
            m(M.DOOR_OUT_FIRST, "2026-03-13 16:10", SPOKE),
        ],
        {
            "door-to-ct": (31, False, False, SPOKE),
            "dido": (130, False, False, SPOKE),
            "dido-90": (130, False, False, SPOKE),
        },
        {(SPOKE, "2026-03"): {"door-to-ct": 31, "dido": 130}},
    ),
    "wake-up-stroke-with-an-estimated-lkw": Case(
        [
            m(M.LAST_KNOWN_WELL, "2026-03-13 22:00", SPOKE, source=EST),
            m(M.DOOR_IN_FIRST, "2026-03-14 06:30", SPOKE),
            m(M.NEEDLE, "2026-03-14 07:10", SPOKE),
        ],
        {
            "onset-to-door": (510, False, True, SPOKE),
            "door-to-needle": (40, True, False, SPOKE),  # door and needle are both recorded
            "onset-to-needle": (550, None, True, None),
        },
        {(SPOKE, "2026-03"): {"door-to-needle": 40}},
        lkw_uncertain=True,
    ),
    "needle-reported-before-ct-and-a-needle-time-corrected": Case(
        [
            m(M.DOOR_IN_FIRST, "2026-03-15 10:00", SPOKE),
            m(M.NEEDLE, "2026-03-15 10:50", SPOKE, recorded="2026-03-15 10:51"),
            m(M.CT_STARTED, "2026-03-15 10:18", SPOKE, recorded="2026-03-15 10:55"),
            # The spoke corrects its needle time: the later report wins.
            m(M.NEEDLE, "2026-03-15 10:41", SPOKE, recorded="2026-03-15 11:30"),
        ],
        {
            "door-to-ct": (18, True, False, SPOKE),
            "door-to-needle": (41, True, False, SPOKE),
        },
        {(SPOKE, "2026-03"): {"door-to-needle": 41, "door-to-ct": 18}},
    ),
    "needle-after-midnight-rounded-to-whole-minutes": Case(
        [
            m(M.DOOR_IN_FIRST, "2026-03-16 23:40:10", SPOKE),
            m(M.NEEDLE, "2026-03-17 00:25:45", SPOKE),  # 45 min 35 s: 46 min
        ],
        {"door-to-needle": (46, True, False, SPOKE)},
        {(SPOKE, "2026-03"): {"door-to-needle": 46}},
    ),
    "estimated-door-in-makes-the-dtn-uncertain": Case(
        [
            m(M.DOOR_IN_FIRST, "2026-03-18 08:00", SPOKE, source=EST),
            m(M.NEEDLE, "2026-03-18 09:05", SPOKE),
        ],
        {"door-to-needle": (65, False, True, SPOKE)},
        {(SPOKE, "2026-03"): {"door-to-needle": 65}},
    ),
    "ct-at-both-hospitals-each-counts-its-own": Case(
        [
            m(M.DOOR_IN_FIRST, "2026-03-19 09:00", SPOKE),
            m(M.CT_STARTED, "2026-03-19 09:24", SPOKE),
            m(M.DOOR_OUT_FIRST, "2026-03-19 10:00", SPOKE),
            m(M.DOOR_IN_RECEIVING, "2026-03-19 10:45", HUB),
            m(M.CT_STARTED, "2026-03-19 10:55", HUB),  # a CTA at the hub, reported later
        ],
        {
            "door-to-ct": (24, True, False, SPOKE),
            "dido": (60, True, False, SPOKE),
            "dido-90": (60, True, False, SPOKE),
        },
        {(SPOKE, "2026-03"): {"door-to-ct": 24, "dido": 60}, (HUB, "2026-03"): {}},
    ),
    "hospital-unknown-placed-by-time": Case(
        # An old record without hospitals: a needle after arrival at the hub is the hub's.
        [
            m(M.DOOR_IN_FIRST, "2026-03-20 09:00", None),
            m(M.DOOR_OUT_FIRST, "2026-03-20 10:00", None),
            m(M.DOOR_IN_RECEIVING, "2026-03-20 10:40", None),
            m(M.NEEDLE, "2026-03-20 11:05", None),
        ],
        {
            "hub-door-to-needle": (25, True, False, None),
            "dido": (60, True, False, None),
            "dido-90": (60, True, False, None),
        },
        {},  # without a hospital a patient cannot be counted for one
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_every_metric_equals_its_hand_computed_value(case: Case) -> None:
    got = {
        code: (metric.minutes, metric.met, metric.uncertain, metric.hospital)
        for code, metric in compute_metrics(case.milestones).items()
    }
    assert got == case.metrics


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_each_hospital_counts_the_patient_once_on_its_own_times(case: Case) -> None:
    outcomes = outcomes_of(case.milestones)
    got = {
        (o.hospital_id, o.month): {code: metric.minutes for code, metric in o.metrics.items()}
        for o in outcomes
    }
    assert got == case.kpi
    assert len(outcomes) == len(case.kpi)  # once per hospital
    assert all(o.lkw_uncertain is case.lkw_uncertain for o in outcomes)


def test_the_months_kpi_rows_equal_their_hand_computed_figures() -> None:
    outcomes = [o for case in CASES.values() for o in outcomes_of(case.milestones)]
    rows = {(r["hospital_id"], r["month"]): r for r in kpi_report(outcomes)}
    # Sikao, March: patients of every March case with a Sikao door-in (9); DTN 45, 40, 41,
    # 46, 65 (sorted 40 41 45 46 65: median 45; <= 60: 4 of 5; <= 45: 3; <= 30: 0); DIDO
    # 110, 75, 130, 60 (median 92.5; <= 120: 3 of 4; <= 90: 2); door-to-CT 20, 31, 18, 24
    # (median 22; <= 25: 3 of 4).
    assert rows[(SPOKE, "2026-03")] == {
        "hospital_id": SPOKE,
        "month": "2026-03",
        "patients": 9,
        "dtn_count": 5,
        "dtn_le_60_pct": 80.0,
        "dtn_le_45_pct": 60.0,
        "dtn_le_30_pct": 0.0,
        "dtn_median_min": 45.0,
        "dtn_uncertain_count": 1,
        "dido_count": 4,
        "dido_le_120_pct": 75.0,
        "dido_le_90_pct": 50.0,
        "dido_median_min": 92.5,
        "dido_uncertain_count": 0,
        "door_to_ct_count": 4,
        "door_to_ct_le_25_pct": 75.0,
        "door_to_ct_median_min": 22.0,
        "door_to_device_count": 0,
        "door_to_device_median_min": None,
        "lkw_uncertain_count": 1,
        # No teleconsult times in these cases (tests/unit/test_consult_times.py has them).
        "consult_count": 0,
        "door_to_consult_request_le_15_pct": None,
        "door_to_consult_request_median_min": None,
        "consult_request_to_ack_median_min": None,
        "consult_ack_to_video_median_min": None,
        "consult_video_to_decision_median_min": None,
    }
    hub_march = rows[(HUB, "2026-03")]
    assert (hub_march["patients"], hub_march["dtn_count"], hub_march["dtn_median_min"]) == (
        3,
        1,
        20.0,
    )
    assert (hub_march["door_to_device_count"], hub_march["door_to_device_median_min"]) == (1, 45.0)
    assert rows[(SPOKE, "2026-10")]["dtn_median_min"] == 48.0
    assert rows[(HUB, "2026-11")]["patients"] == 1
    assert DECLINED not in {hospital for hospital, _ in rows}
