"""The referral page's view of a patient's clock: the windows' colours as time passes, the
buttons of the reader's hospital (set with time and who, or greyed), the metrics against targets,
and what an operator does not see."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.referral.domain.clock import Milestone, TimeSource
from services.referral.domain.model import Referral, TimelineEntry
from services.referral.domain.window_states import WindowState
from services.referral.service.referral_page import MilestoneReport, ReferralReading
from services.referral.service.referral_view import referral_view
from shared.vocabulary.milestones import MilestoneCode
from shared.vocabulary.terms import Language
from shared.workflow.task_state import TaskStatus

M, S = MilestoneCode, WindowState
LKW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
SPOKE, HUB = "sikao-hospital", "trang-hospital"
REFERRAL = Referral(
    id="ref-1",
    status=TaskStatus.ACCEPTED,
    requester_org=SPOKE,
    owner_org=HUB,
    patient_hn="HN-77",
    last_known_well=LKW,
    nihss=12,
    suspected_lvo=True,
    teleconsult_requested=False,
    created_at=LKW + timedelta(minutes=40),
)


def _at(code: MilestoneCode, minutes: int, hospital: str, **kw: object) -> Milestone:
    moment = LKW + timedelta(minutes=minutes)
    return Milestone(code, moment, moment, hospital=hospital, **kw)  # type: ignore[arg-type]


def _reading(
    milestones: list[Milestone],
    *,
    reader: str | None = HUB,
    reports: list[MilestoneReport] | None = None,
) -> ReferralReading:
    return ReferralReading(
        referral=REFERRAL,
        hospitals={SPOKE: ("Sikao Hospital", "โรงพยาบาลสิเกา"), HUB: ("Trang Hospital", None)},
        milestones=[_at(M.LAST_KNOWN_WELL, 0, SPOKE), *milestones],
        reports=reports or [],
        timeline=[
            TimelineEntry(
                event_code="referral-requested",
                occurred_at=REFERRAL.created_at,
                recorded_at=REFERRAL.created_at,
                source=f"Organization/{SPOKE}",
            )
        ],
        patient_data=reader is not None,
        reader_hospital=reader,
    )


# (minutes since LKW, needle given, groin puncture, thrombolysis, thrombectomy) by hand:
# thrombolysis closes at 270 min (amber from 210, red from 240), thrombectomy at 360.
WINDOW_CASES = [
    (0, False, False, S.OPEN, S.OPEN),
    (209, False, False, S.OPEN, S.OPEN),
    (210, False, False, S.AMBER, S.OPEN),  # LKW + 3.5 h
    (240, False, False, S.RED, S.OPEN),  # LKW + 4 h
    (270, False, False, S.RED, S.OPEN),  # the closing minute
    (271, False, False, S.CLOSED, S.OPEN),
    (300, False, False, S.CLOSED, S.AMBER),
    (330, False, False, S.CLOSED, S.RED),
    (361, False, False, S.CLOSED, S.CLOSED),
    (250, True, False, S.DONE, S.OPEN),
    (340, True, True, S.DONE, S.DONE),
]


@pytest.mark.parametrize(("minutes", "needle", "groin", "lysis", "evt"), WINDOW_CASES)
def test_the_windows_count_down_from_last_known_well_in_colours(
    minutes: int, needle: bool, groin: bool, lysis: WindowState, evt: WindowState
) -> None:
    given = [_at(M.NEEDLE, 100, HUB)] if needle else []
    given += [_at(M.GROIN_PUNCTURE, 200, HUB)] if groin else []
    view = referral_view(
        _reading(given), now=LKW + timedelta(minutes=minutes), language=Language.ENGLISH
    )
    states = {w.code: w.state for w in view.windows}
    assert (states["thrombolysis"], states["thrombectomy"]) == (lysis, evt)
    assert view.since_lkw == timedelta(minutes=minutes)


def test_an_estimated_last_known_well_makes_every_window_uncertain() -> None:
    reading = _reading([])
    reading.milestones[0] = Milestone(
        M.LAST_KNOWN_WELL, LKW, LKW, source=TimeSource.ESTIMATED, hospital=SPOKE
    )
    view = referral_view(reading, now=LKW, language=Language.ENGLISH)
    assert view.lkw_uncertain
    assert all(w.uncertain for w in view.windows)


def test_the_hub_sees_its_own_buttons_set_with_who_and_the_rest_greyed() -> None:
    reports = [
        MilestoneReport(
            code="door-in-receiving",
            hospital=HUB,
            occurred_at=LKW + timedelta(minutes=95),
            recorded_at=LKW + timedelta(minutes=95),
            who="Dr Anan (anan)",
            reason=None,
        ),
        MilestoneReport(
            code="door-in-receiving",
            hospital=HUB,
            occurred_at=LKW + timedelta(minutes=90),
            recorded_at=LKW + timedelta(minutes=99),
            who="Nurse Ploy (ploy)",
            reason="ambulance log says 09:30",
        ),
    ]
    view = referral_view(
        _reading([_at(M.DOOR_IN_RECEIVING, 90, HUB)], reports=reports),
        now=LKW + timedelta(minutes=100),
        language=Language.ENGLISH,
    )
    buttons = {b.kind: b for b in view.buttons}
    # Leaving the receiving hospital is no stroke milestone: no door-out button at the hub.
    assert list(buttons) == ["door-in", "ct-started", "needle", "groin-puncture"]
    door_in = buttons["door-in"]
    assert door_in.occurred_at == LKW + timedelta(minutes=90)
    assert door_in.who == "Nurse Ploy (ploy)"
    assert [r.who for r in door_in.history] == ["Dr Anan (anan)"]
    assert not buttons["needle"].is_set
    assert buttons["needle"].who is None


def test_the_spoke_has_a_door_out_button_and_its_names_in_thai() -> None:
    view = referral_view(
        _reading([_at(M.DOOR_IN_FIRST, 30, SPOKE)], reader=SPOKE),
        now=LKW + timedelta(minutes=60),
        language=Language.THAI,
    )
    buttons = {b.kind: b for b in view.buttons}
    assert "door-out" in buttons
    # Set by a hospital system (no person): who is the hospital, by its Thai name.
    assert buttons["door-in"].who == "โรงพยาบาลสิเกา"
    assert view.status_text == "ตอบรับแล้ว"
    assert view.requester == "โรงพยาบาลสิเกา"
    assert view.owner == "Trang Hospital"


@pytest.mark.parametrize(
    ("needle_after_door", "met"), [(45, True), (60, True), (61, False)], ids=str
)
def test_the_hub_door_to_needle_is_measured_against_60_minutes(
    needle_after_door: int, met: bool
) -> None:
    view = referral_view(
        _reading([_at(M.DOOR_IN_RECEIVING, 90, HUB), _at(M.NEEDLE, 90 + needle_after_door, HUB)]),
        now=LKW + timedelta(minutes=200),
        language=Language.ENGLISH,
    )
    metric = next(m for m in view.metrics if m.code == "hub-door-to-needle")
    assert (metric.duration, metric.target, metric.met) == (
        timedelta(minutes=needle_after_door),
        timedelta(minutes=60),
        met,
    )


def test_two_contradicting_times_show_why_instead_of_metrics() -> None:
    view = referral_view(
        _reading([_at(M.DOOR_IN_RECEIVING, 90, HUB), _at(M.NEEDLE, 80, HUB)]),
        now=LKW + timedelta(minutes=200),
        language=Language.ENGLISH,
    )
    assert view.metrics == []
    assert view.clock_error
    assert "before" in view.clock_error


def test_an_operator_reads_the_clock_without_the_patient_or_buttons() -> None:
    view = referral_view(_reading([], reader=None), now=LKW, language=Language.ENGLISH)
    assert view.hospital_number is None
    assert view.nihss is None
    assert view.buttons == []
    assert [w.code for w in view.windows][:2] == ["thrombolysis", "thrombectomy"]
    assert view.timeline[0].who == "Sikao Hospital"


def test_an_acknowledgement_on_the_board_names_who_acknowledged() -> None:
    reading = _reading([])
    reading.timeline.append(
        TimelineEntry(
            event_code="notification-acknowledged",
            occurred_at=REFERRAL.created_at,
            recorded_at=REFERRAL.created_at,
            source=f"Organization/{HUB}",
            detail={"via": "board", "by": "Dr Anan"},
        )
    )
    view = referral_view(reading, now=LKW, language=Language.ENGLISH)
    assert (view.timeline[-1].label, view.timeline[-1].who) == (
        "Notification acknowledged",
        "Dr Anan",
    )


def test_the_referral_step_names_the_person_who_sent_it_from_the_web_app() -> None:
    reading = _reading([])
    sent = replace(reading, referral=replace(REFERRAL, requested_by="Ploy (nurse.sikao)"))
    view = referral_view(sent, now=LKW, language=Language.ENGLISH)
    assert view.timeline[0].who == "Ploy (nurse.sikao)"


@pytest.mark.parametrize(
    ("detail", "language", "note"),
    [
        ({"consult": "c1", "stage": "in-video"}, Language.ENGLISH, "in-video"),
        (
            {
                "consult": "c1",
                "stage": "accepted",
                "recommendation": {
                    "thrombolysis": "give",
                    "dose": "63.0 mg",
                    "thrombectomy-transfer": True,
                },
            },
            Language.ENGLISH,
            "accepted · thrombolysis: give, 63.0 mg, transfer for thrombectomy",
        ),
        (
            {"consult": "c1", "recommendation": {"thrombolysis": "do-not-give"}},
            Language.THAI,
            "ไม่ให้ยาละลายลิ่มเลือด",
        ),
    ],
)
def test_a_teleconsults_steps_and_advice_show_on_the_timeline(
    detail: dict[str, object], language: Language, note: str
) -> None:
    reading = _reading([])
    reading.timeline.append(
        TimelineEntry(
            event_code="teleconsult-requested",
            occurred_at=REFERRAL.created_at,
            recorded_at=REFERRAL.created_at,
            source="Organization/fasttrack-network",
            detail=detail,
        )
    )
    view = referral_view(reading, now=LKW, language=language)
    assert view.timeline[-1].note == note
