"""Home-isolation rules as a table: each check-in and the level (and readings asked again) the
built-in programme gives it, written out by hand apart from the module; the flag rises by
itself and only a nurse lowers it; a missed check-in reminds, then alerts; the board's order."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from pydantic import ValidationError

from services.telemedicine.config import TelemedicineSettings
from services.telemedicine.domain.monitoring import (
    HOME_ISOLATION,
    Assessment,
    CheckIn,
    Level,
    LevelNotLowered,
    Overdue,
    Reading,
    Symptom,
    Vital,
    assess,
    lowered,
    next_check_in,
    overdue,
    raised,
    risk_rank,
)
from shared.errors import InvalidInput
from shared.province_time import PROVINCE_ZONE

V, L = Vital, Level
G, Y, R = L.GREEN, L.YELLOW, L.RED

# (what the patient reports, the level it reaches, the readings asked again)
EXPECTED: list[tuple[str, CheckIn, Level, tuple[Vital, ...]]] = [
    ("SpO2 98 is green", CheckIn((Reading(V.SPO2, 98),)), G, ()),
    ("SpO2 96 is green", CheckIn((Reading(V.SPO2, 96),)), G, ()),
    ("SpO2 95 is yellow", CheckIn((Reading(V.SPO2, 95),)), Y, ()),
    ("SpO2 94 is yellow", CheckIn((Reading(V.SPO2, 94),)), Y, ()),
    ("SpO2 93 is red", CheckIn((Reading(V.SPO2, 93),)), R, ()),
    ("SpO2 50 is red (the lowest that counts)", CheckIn((Reading(V.SPO2, 50),)), R, ()),
    ("SpO2 100 is green", CheckIn((Reading(V.SPO2, 100),)), G, ()),
    ("SpO2 101 is asked again", CheckIn((Reading(V.SPO2, 101),)), G, (V.SPO2,)),
    ("SpO2 49 is asked again", CheckIn((Reading(V.SPO2, 49),)), G, (V.SPO2,)),
    ("RR 20 is green", CheckIn((Reading(V.RESPIRATORY_RATE, 20),)), G, ()),
    ("RR 21 is yellow", CheckIn((Reading(V.RESPIRATORY_RATE, 21),)), Y, ()),
    ("RR 25 is yellow", CheckIn((Reading(V.RESPIRATORY_RATE, 25),)), Y, ()),
    ("RR 26 is red", CheckIn((Reading(V.RESPIRATORY_RATE, 26),)), R, ()),
    ("RR 80 is asked again", CheckIn((Reading(V.RESPIRATORY_RATE, 80),)), G, (V.RESPIRATORY_RATE,)),
    ("temperature 37.5 is green", CheckIn((Reading(V.TEMPERATURE, 37.5),)), G, ()),
    ("temperature 39.0 is green", CheckIn((Reading(V.TEMPERATURE, 39.0),)), G, ()),
    ("temperature 39.1 is yellow", CheckIn((Reading(V.TEMPERATURE, 39.1),)), Y, ()),
    ("temperature 35.0 is yellow", CheckIn((Reading(V.TEMPERATURE, 35.0),)), Y, ()),
    (
        "temperature 29.9 is asked again",
        CheckIn((Reading(V.TEMPERATURE, 29.9),)),
        G,
        (V.TEMPERATURE,),
    ),
    (
        "temperature 45.1 is asked again",
        CheckIn((Reading(V.TEMPERATURE, 45.1),)),
        G,
        (V.TEMPERATURE,),
    ),
    ("temperature 45 counts", CheckIn((Reading(V.TEMPERATURE, 45),)), Y, ()),
    ("HR 110 is green", CheckIn((Reading(V.HEART_RATE, 110),)), G, ()),
    ("HR 111 is yellow", CheckIn((Reading(V.HEART_RATE, 111),)), Y, ()),
    ("HR 131 is red", CheckIn((Reading(V.HEART_RATE, 131),)), R, ()),
    ("HR 49 is yellow", CheckIn((Reading(V.HEART_RATE, 49),)), Y, ()),
    ("HR 300 is asked again", CheckIn((Reading(V.HEART_RATE, 300),)), G, (V.HEART_RATE,)),
    ("short of breath is red", CheckIn(symptoms=frozenset({Symptom.DYSPNOEA})), R, ()),
    ("chest pain is red", CheckIn(symptoms=frozenset({Symptom.CHEST_PAIN})), R, ()),
    ("fever is yellow", CheckIn(symptoms=frozenset({Symptom.FEVER})), Y, ()),
    ("a cough alone is green", CheckIn(symptoms=frozenset({Symptom.COUGH})), G, ()),
    (
        "the worst reading decides",
        CheckIn((Reading(V.SPO2, 95), Reading(V.RESPIRATORY_RATE, 26))),
        R,
        (),
    ),
    (
        "a red SpO2 counts beside a mistyped temperature",
        CheckIn((Reading(V.SPO2, 92), Reading(V.TEMPERATURE, 376))),
        R,
        (V.TEMPERATURE,),
    ),
]


@pytest.mark.parametrize(
    ("check_in", "level", "asked_again"),
    [case[1:] for case in EXPECTED],
    ids=[case[0] for case in EXPECTED],
)
def test_each_check_in_reaches_the_level_of_the_table(
    check_in: CheckIn, level: Level, asked_again: tuple[Vital, ...]
) -> None:
    assessment = assess(check_in, HOME_ISOLATION)
    assert assessment.level is level
    assert tuple(r.vital for r in assessment.implausible) == asked_again
    assert bool(assessment.reasons) == (level > G)


def test_a_check_in_with_nothing_in_it_is_refused() -> None:
    with pytest.raises(InvalidInput):
        CheckIn()


AT = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
# (the flag now, what a check-in says, the flag after it)
RISES = [(c, a, max(c, a)) for c in Level for a in Level]


@pytest.mark.parametrize(("current", "assessed", "after"), RISES)
def test_the_flag_rises_by_itself_and_never_falls_by_itself(
    current: Level, assessed: Level, after: Level
) -> None:
    change = raised(current, Assessment(assessed, ("why",)), at=AT)
    assert (change.after if change else current) is after
    assert change is None or change.by is None


@pytest.mark.parametrize(("current", "to"), [(c, t) for c in Level for t in Level])
def test_only_a_lower_level_may_be_set_by_a_nurse_with_a_reason(current: Level, to: Level) -> None:
    if to < current:
        change = lowered(current, to, by="Practitioner/nurse", reason=" better ", at=AT)
        assert (change.before, change.after, change.reason) == (current, to, "better")
        with pytest.raises(InvalidInput):
            lowered(current, to, by="Practitioner/nurse", reason="  ", at=AT)
    else:
        with pytest.raises(LevelNotLowered):
            lowered(current, to, by="Practitioner/nurse", reason="better", at=AT)


DUE = AT
MINUTE = timedelta(minutes=1)
# (minutes after the due time, reminded already, alerted already, what it calls for)
CHASES = [
    (29, False, False, None),
    (30, False, False, Overdue.REMIND),
    (31, True, False, None),
    (119, True, False, None),
    (120, True, False, Overdue.ALERT),
    (120, False, False, Overdue.ALERT),  # a worker down for long: straight to the nurses
    (500, True, True, None),
]


@pytest.mark.parametrize(("minutes", "reminded", "alerted", "step"), CHASES)
def test_a_missed_check_in_reminds_the_patient_then_alerts_the_nurses(
    minutes: int, reminded: bool, alerted: bool, step: Overdue | None
) -> None:
    now = DUE + minutes * MINUTE
    found = overdue(due=DUE, now=now, reminded=reminded, alerted=alerted, programme=HOME_ISOLATION)
    assert found is step


@pytest.mark.parametrize(
    ("local", "due"),
    [
        ((7, 59), (0, 8, 0)),
        ((8, 0), (0, 18, 0)),
        ((12, 30), (0, 18, 0)),
        ((18, 0), (1, 8, 0)),
        ((23, 10), (1, 8, 0)),
    ],
)
def test_check_ins_are_due_at_eight_and_six_province_time(
    local: tuple[int, int], due: tuple[int, int, int]
) -> None:
    after = datetime(2026, 12, 1, *local, tzinfo=PROVINCE_ZONE)
    day, hour, minute = due
    expected = datetime.combine(
        after.date() + timedelta(days=day), time(hour, minute), tzinfo=PROVINCE_ZONE
    )
    assert next_check_in(after, times=HOME_ISOLATION.check_in_times, zone=PROVINCE_ZONE) == expected


def test_the_board_puts_red_then_yellow_then_missed_then_green() -> None:
    rows = [(G, False), (G, True), (R, False), (Y, True), (Y, False), (R, True)]
    ranked = sorted(rows, key=lambda row: risk_rank(row[0], missed=row[1]))
    assert [risk_rank(level, missed=missed) for level, missed in ranked] == [0, 0, 1, 1, 2, 3]
    assert ranked[-2:] == [(G, True), (G, False)]


def test_production_refuses_the_development_check_in_link_secret() -> None:
    production: dict[str, object] = {
        "environment": "production",
        "database_url": "postgresql://fasttrack@db.example/fasttrack",
        "web_identity_secret": "a-real-identity-secret",
        "telemedicine_video_secret": "a-real-video-secret",
    }
    with pytest.raises(ValidationError, match="FT_TELEMEDICINE_CHECK_IN_LINK_SECRET"):
        TelemedicineSettings.model_validate(production)
    TelemedicineSettings.model_validate(
        {**production, "telemedicine_check_in_link_secret": "a-real-check-in-secret"}
    )


def test_a_programme_configured_by_name_keeps_the_built_in_table_unless_it_gives_one() -> None:
    settings = TelemedicineSettings(
        telemedicine_monitoring_programmes={
            "home-isolation": {"remind_after_s": 60, "alert_after_s": 120},
            "strict": {"thresholds": [{"vital": "spo2", "level": "red", "below": 95}]},
        }
    )
    programmes = settings.monitoring_programmes()
    assert programmes["home-isolation"].thresholds == HOME_ISOLATION.thresholds
    assert programmes["home-isolation"].alert_after == timedelta(seconds=120)
    strict = programmes["strict"]
    assert assess(CheckIn((Reading(V.SPO2, 94),)), strict).level is R
    assert assess(CheckIn((Reading(V.RESPIRATORY_RATE, 30),)), strict).level is G
    with pytest.raises(ValidationError, match="exactly one"):
        TelemedicineSettings(
            telemedicine_monitoring_programmes={
                "bad": {"thresholds": [{"vital": "spo2", "level": "red"}]}
            }
        )
