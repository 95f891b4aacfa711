"""Fast-track clocks (docs/clinical-metrics.md): metrics, windows, pre-breach alerts, KPIs."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.referral.adapters.wording import alert_text
from services.referral.domain.alerts import Alert, AlertCode, due_alerts, next_alert_at
from services.referral.domain.clock import Milestone, TimeSource, bangkok_month
from services.referral.domain.consult_times import CONSULT_COLUMNS
from services.referral.domain.kpi import (
    KPI_COLUMNS,
    HospitalOutcome,
    kpi_csv,
    kpi_report,
    outcomes_of,
)
from services.referral.domain.metrics import (
    Metric,
    WindowCountdown,
    compute_metrics,
    window_countdowns,
)
from services.referral.domain.windows import TreatmentWindow
from shared.province_time import PROVINCE_ZONE
from shared.vocabulary.milestones import MilestoneCode
from shared.vocabulary.terms import Language

M = MilestoneCode
A = AlertCode
BKK = PROVINCE_ZONE
PLUS7 = timezone(timedelta(hours=7))
T0 = datetime(2026, 3, 10, 8, 0, tzinfo=BKK)
SECOND = timedelta(seconds=1)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ms(
    code: MilestoneCode,
    minutes: float,
    *,
    source: TimeSource = TimeSource.RECORDED,
    uncertain: bool = False,
    hospital: str | None = None,
) -> Milestone:
    moment = at(minutes)
    return Milestone(code, moment, moment + timedelta(minutes=1), source, uncertain, hospital)


# The targets written out by hand from docs/clinical-metrics.md, independent of the module's table:
# metric -> (from, to, target minutes or None).
SPANS: dict[str, tuple[MilestoneCode, MilestoneCode, int | None]] = {
    "onset-to-door": (M.LAST_KNOWN_WELL, M.DOOR_IN_FIRST, 120),
    "door-to-physician": (M.DOOR_IN_FIRST, M.PHYSICIAN_SEEN, 10),
    "door-to-ct": (M.DOOR_IN_FIRST, M.CT_STARTED, 25),
    "referral-response": (M.REFERRAL_REQUESTED, M.REFERRAL_ACCEPTED, 10),
    "door-to-needle": (M.DOOR_IN_FIRST, M.NEEDLE, 60),
    "onset-to-needle": (M.LAST_KNOWN_WELL, M.NEEDLE, None),
    "dido": (M.DOOR_IN_FIRST, M.DOOR_OUT_FIRST, 120),
    "dido-90": (M.DOOR_IN_FIRST, M.DOOR_OUT_FIRST, 90),
    "door-to-device": (M.DOOR_IN_FIRST, M.GROIN_PUNCTURE, 90),  # direct: no receiving door-in
    "closure": (M.REFERRAL_REQUESTED, M.LOOP_CLOSED, None),
}


def span_cases() -> list[object]:
    """For every metric: on target, one minute over, each milestone missing, doubtful inputs."""
    cases: list[object] = []
    for code, (start, end, target) in SPANS.items():
        on = target if target is not None else 37
        ok = None if target is None else True
        estimated, device = TimeSource.ESTIMATED, TimeSource.DEVICE
        table: list[tuple[str, list[Milestone], int | None, bool | None, bool]] = [
            ("on-target", [ms(start, 0), ms(end, on)], on, ok, False),
            ("missing-start", [ms(end, on)], None, None, False),
            ("missing-end", [ms(start, 0)], None, None, False),
            ("start-uncertain", [ms(start, 0, uncertain=True), ms(end, 5)], 5, ok, True),
            ("end-estimated", [ms(start, 0), ms(end, 5, source=estimated)], 5, ok, True),
            ("device-is-certain", [ms(start, 0, source=device), ms(end, 5)], 5, ok, False),
        ]
        if target is not None:
            table.append(
                ("over-target", [ms(start, 0), ms(end, target + 1)], target + 1, False, False)
            )
        for name, milestones, minutes, met, uncertain in table:
            cases.append(
                pytest.param(code, milestones, minutes, target, met, uncertain, id=f"{code}-{name}")
            )
    return cases


@pytest.mark.parametrize(
    ("code", "milestones", "minutes", "target", "met", "uncertain"), span_cases()
)
def test_metric(
    code: str,
    milestones: list[Milestone],
    minutes: int | None,
    target: int | None,
    met: bool | None,
    uncertain: bool,
) -> None:
    metrics = compute_metrics(milestones)
    if minutes is None:
        assert code not in metrics
    else:
        assert metrics[code] == Metric(code, minutes, target, met, uncertain)


@pytest.mark.parametrize(
    ("milestones", "expected"),
    [
        pytest.param(
            [ms(M.DOOR_IN_FIRST, 0), ms(M.DOOR_IN_RECEIVING, 100), ms(M.GROIN_PUNCTURE, 160)],
            Metric("door-to-device", 60, 60, True, False),
            id="transfer-from-receiving-door-met",
        ),
        pytest.param(
            [ms(M.DOOR_IN_FIRST, 0), ms(M.DOOR_IN_RECEIVING, 100), ms(M.GROIN_PUNCTURE, 170)],
            Metric("door-to-device", 70, 60, False, False),
            id="transfer-70-min-not-met",
        ),
        pytest.param(
            [ms(M.DOOR_IN_RECEIVING, 0, uncertain=True), ms(M.GROIN_PUNCTURE, 30)],
            Metric("door-to-device", 30, 60, True, True),
            id="transfer-uncertain-door",
        ),
        pytest.param(
            [ms(M.DOOR_IN_FIRST, 0), ms(M.GROIN_PUNCTURE, 80)],
            Metric("door-to-device", 80, 90, True, False),
            id="direct-80-min-met",
        ),
        pytest.param([ms(M.DOOR_IN_RECEIVING, 0)], None, id="no-puncture"),
        pytest.param([ms(M.GROIN_PUNCTURE, 0)], None, id="no-door"),
    ],
)
def test_door_to_device(milestones: list[Milestone], expected: Metric | None) -> None:
    assert compute_metrics(milestones).get("door-to-device") == expected


@pytest.mark.parametrize(
    ("arrived", "eta", "expected"),
    [
        pytest.param(
            ms(M.DOOR_IN_RECEIVING, 50),
            at(60),
            Metric("transport-vs-eta", -10, 0, True, False),
            id="early",
        ),
        pytest.param(
            ms(M.DOOR_IN_RECEIVING, 60),
            at(60),
            Metric("transport-vs-eta", 0, 0, True, False),
            id="on-eta",
        ),
        pytest.param(
            ms(M.DOOR_IN_RECEIVING, 75),
            at(60),
            Metric("transport-vs-eta", 15, 0, False, False),
            id="late",
        ),
        pytest.param(
            ms(M.DOOR_IN_RECEIVING, 75, source=TimeSource.ESTIMATED),
            at(60),
            Metric("transport-vs-eta", 15, 0, False, True),
            id="estimated-arrival",
        ),
        pytest.param(ms(M.DOOR_IN_RECEIVING, 75), None, None, id="no-eta"),
        pytest.param(None, at(60), None, id="not-arrived"),
    ],
)
def test_transport_vs_eta(
    arrived: Milestone | None, eta: datetime | None, expected: Metric | None
) -> None:
    milestones = [ms(M.DOOR_OUT_FIRST, 0)] + ([arrived] if arrived else [])
    assert compute_metrics(milestones, eta=eta).get("transport-vs-eta") == expected


def test_a_full_timeline_yields_every_metric() -> None:
    milestones = [ms(code, minute) for minute, code in enumerate(M)]
    metrics = compute_metrics(milestones, eta=at(100))
    assert set(metrics) == set(SPANS) | {"transport-vs-eta"}
    assert metrics["door-to-device"].target_minutes == 60  # transferred: from the receiving door


def test_dido_between_90_and_120_meets_only_the_guideline() -> None:
    metrics = compute_metrics([ms(M.DOOR_IN_FIRST, 0), ms(M.DOOR_OUT_FIRST, 100)])
    assert (metrics["dido"].met, metrics["dido-90"].met) == (True, False)


def test_mixed_time_zones() -> None:
    """A door-in in UTC and a needle at +07:00 (ZoneInfo and fixed offset) are 45 minutes apart."""
    door_utc = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # 08:00 in Bangkok
    needle = datetime(2026, 3, 10, 8, 45, tzinfo=PLUS7)
    lkw = datetime(2026, 3, 10, 7, 0, tzinfo=BKK)
    milestones = [
        Milestone(M.LAST_KNOWN_WELL, lkw, lkw),
        Milestone(M.DOOR_IN_FIRST, door_utc, door_utc),
        Milestone(M.NEEDLE, needle, needle),
    ]
    metrics = compute_metrics(milestones)
    assert metrics["door-to-needle"].minutes == 45
    assert metrics["onset-to-door"].minutes == 60
    assert metrics["onset-to-needle"].minutes == 105


@pytest.mark.parametrize(
    ("milestones", "message"),
    [
        pytest.param(
            [ms(M.DOOR_IN_FIRST, 30), ms(M.NEEDLE, 10)],
            "needle .* before door-in-first",
            id="needle",
        ),
        pytest.param(
            [ms(M.LAST_KNOWN_WELL, 5), ms(M.DOOR_IN_FIRST, 0)],
            "door-in-first .* before lkw",
            id="door",
        ),
        pytest.param(
            [
                ms(M.DOOR_IN_RECEIVING, 30, hospital="hub"),
                ms(M.GROIN_PUNCTURE, 29, hospital="hub"),
            ],
            "groin-puncture .* before door-in-receiving",
            id="device",
        ),
    ],
)
def test_negative_duration_is_a_clock_error(milestones: list[Milestone], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compute_metrics(milestones)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        Milestone(M.NEEDLE, T0.replace(tzinfo=None), T0)


def test_a_later_record_of_a_milestone_corrects_the_earlier() -> None:
    door = ms(M.DOOR_IN_FIRST, 0)
    first = Milestone(M.NEEDLE, at(70), at(71))
    corrected = Milestone(M.NEEDLE, at(55), at(90))
    assert compute_metrics([door, corrected, first])["door-to-needle"].minutes == 55


@pytest.mark.parametrize(
    ("now_minutes", "left"),
    [
        pytest.param(0, (270, 360, 1440), id="at-lkw"),
        pytest.param(240, (30, 120, 1200), id="4h-all-open"),
        pytest.param(300, (-30, 60, 1140), id="5h-thrombolysis-closed"),
        pytest.param(1500, (-1230, -1140, -60), id="25h-all-closed"),
        # Whole minutes, rounded down: 29 min 40 s left is 29, never 30.
        pytest.param(240 + 1 / 3, (29, 119, 1199), id="seconds-rounded-down"),
        pytest.param(300 + 1 / 12, (-31, 59, 1139), id="closed-5-s-past-the-half-hour"),
    ],
)
def test_window_countdowns(now_minutes: float, left: tuple[int, int, int]) -> None:
    countdowns = window_countdowns([ms(M.LAST_KNOWN_WELL, 0)], now=at(now_minutes))
    assert countdowns == [
        WindowCountdown(TreatmentWindow.THROMBOLYSIS, at(270), left[0], False),
        WindowCountdown(TreatmentWindow.THROMBECTOMY, at(360), left[1], False),
        WindowCountdown(TreatmentWindow.THROMBECTOMY_EXTENDED, at(1440), left[2], False),
    ]


def test_window_countdowns_inherit_lkw_doubt_and_need_lkw() -> None:
    estimated = ms(M.LAST_KNOWN_WELL, 0, source=TimeSource.ESTIMATED)
    assert all(c.uncertain for c in window_countdowns([estimated], now=T0))
    assert window_countdowns([ms(M.DOOR_IN_FIRST, 0)], now=T0) == []


# alert -> (milestones that arm it, accept_by, eta, due minute, milestone that disarms it)
ALERTS: dict[
    AlertCode, tuple[list[Milestone], datetime | None, datetime | None, float, Milestone]
] = {
    A.LKW_3H30: ([ms(M.LAST_KNOWN_WELL, 0)], None, None, 210, ms(M.NEEDLE, 200)),
    A.LKW_4H: ([ms(M.LAST_KNOWN_WELL, 0)], None, None, 240, ms(M.NEEDLE, 200)),
    A.DIDO_APPROACHING: ([ms(M.DOOR_IN_FIRST, 0)], None, None, 75, ms(M.DOOR_OUT_FIRST, 70)),
    A.DIDO_120: ([ms(M.DOOR_IN_FIRST, 0)], None, None, 105, ms(M.DOOR_OUT_FIRST, 100)),
    A.REFERRAL_NOT_ACCEPTED: (
        [ms(M.REFERRAL_REQUESTED, 0)],
        at(10),
        None,
        10,
        ms(M.REFERRAL_ACCEPTED, 8),
    ),
    A.LATER_THAN_ETA: ([ms(M.DOOR_OUT_FIRST, 0)], None, at(40), 40, ms(M.DOOR_IN_RECEIVING, 38)),
}
ALERT_IDS = [code.value for code in ALERTS]


def codes(alerts: list[Alert]) -> set[AlertCode]:
    return {alert.code for alert in alerts}


@pytest.mark.parametrize("code", ALERTS, ids=ALERT_IDS)
def test_alert_is_due_exactly_at_its_time(code: AlertCode) -> None:
    armed, accept_by, eta, due, _ = ALERTS[code]
    before = due_alerts(armed, now=at(due) - SECOND, accept_by=accept_by, eta=eta)
    on_time = due_alerts(armed, now=at(due), accept_by=accept_by, eta=eta)
    assert code not in codes(before)
    alert = next(a for a in on_time if a.code is code)
    assert alert.due_at == at(due)
    assert alert.uncertain is False
    english, thai = alert_text(alert, Language.ENGLISH), alert_text(alert, Language.THAI)
    assert english
    assert "\n" not in english
    # Dated in both languages (Buddhist Era in Thai), so a time after midnight is not misread.
    assert "Mar 2026 (Bangkok time)" in english
    assert "มี.ค. 2569 เวลา" in thai


@pytest.mark.parametrize("code", ALERTS, ids=ALERT_IDS)
def test_alert_stops_once_its_milestone_happened(code: AlertCode) -> None:
    armed, accept_by, eta, due, done = ALERTS[code]
    alerts = due_alerts([*armed, done], now=at(due + 60), accept_by=accept_by, eta=eta)
    assert code not in codes(alerts)


@pytest.mark.parametrize("code", ALERTS, ids=ALERT_IDS)
def test_alert_is_not_sent_twice(code: AlertCode) -> None:
    armed, accept_by, eta, due, _ = ALERTS[code]
    now = at(due + 1)
    assert code in codes(due_alerts(armed, now=now, accept_by=accept_by, eta=eta))
    again = due_alerts(armed, now=now, accept_by=accept_by, eta=eta, already_sent={code})
    assert code not in codes(again)


@pytest.mark.parametrize(
    ("milestones", "accept_by", "eta", "sent", "now", "expected"),
    [
        pytest.param([], None, None, (), None, None, id="nothing-to-watch"),
        pytest.param([ms(M.LAST_KNOWN_WELL, 0)], None, None, (), None, at(210), id="lkw-3h30"),
        pytest.param(
            [ms(M.LAST_KNOWN_WELL, 0)], None, None, {A.LKW_3H30}, None, at(240), id="3h30-sent"
        ),
        pytest.param([ms(M.LAST_KNOWN_WELL, 0)], None, None, (), at(211), at(240), id="after-now"),
        pytest.param([ms(M.LAST_KNOWN_WELL, 0)], None, None, (), at(300), None, id="all-past"),
        pytest.param(
            [ms(M.LAST_KNOWN_WELL, 0)], None, None, (), at(230), at(240), id="overdue-skipped"
        ),
        pytest.param(
            [ms(M.LAST_KNOWN_WELL, 0), ms(M.NEEDLE, 50)], None, None, (), None, None, id="needle"
        ),
        pytest.param(
            [ms(M.LAST_KNOWN_WELL, 0), ms(M.DOOR_IN_FIRST, 30)],
            None,
            None,
            (),
            None,
            at(105),
            id="dido-first",
        ),
        pytest.param(
            [ms(M.DOOR_IN_FIRST, 0), ms(M.REFERRAL_REQUESTED, 20)],
            at(30),
            None,
            (),
            None,
            at(30),
            id="accept-by",
        ),
        pytest.param([ms(M.DOOR_OUT_FIRST, 0)], None, at(40), (), None, at(40), id="eta"),
        pytest.param(
            [ms(M.REFERRAL_ACCEPTED, 5)], at(10), None, (), None, None, id="no-request-no-alert"
        ),
    ],
)
def test_next_alert_at(
    milestones: list[Milestone],
    accept_by: datetime | None,
    eta: datetime | None,
    sent: set[AlertCode] | tuple[()],
    now: datetime | None,
    expected: datetime | None,
) -> None:
    got = next_alert_at(milestones, accept_by=accept_by, eta=eta, already_sent=sent, now=now)
    assert got == expected


def test_late_needle_silences_an_unsent_overdue_alert() -> None:
    milestones = [ms(M.LAST_KNOWN_WELL, 0), ms(M.NEEDLE, 215)]
    assert due_alerts(milestones, now=at(250)) == []


def test_alerts_inherit_the_doubt_of_their_anchor() -> None:
    milestones = [ms(M.LAST_KNOWN_WELL, 0, source=TimeSource.ESTIMATED), ms(M.DOOR_IN_FIRST, 0)]
    alerts = due_alerts(milestones, now=at(300))
    assert {a.code: a.uncertain for a in alerts} == {
        A.LKW_3H30: True,
        A.LKW_4H: True,
        A.DIDO_APPROACHING: False,
        A.DIDO_120: False,
    }


def test_due_alerts_come_earliest_first_and_name_no_patient() -> None:
    milestones = [ms(M.LAST_KNOWN_WELL, -120), ms(M.DOOR_IN_FIRST, 0)]
    alerts = due_alerts(milestones, now=at(200))
    assert [a.code for a in alerts] == [A.DIDO_APPROACHING, A.LKW_3H30, A.DIDO_120, A.LKW_4H]
    # LKW 06:00 + 4.5 h, Bangkok, with its date.
    english, thai = alert_text(alerts[1], Language.ENGLISH), alert_text(alerts[1], Language.THAI)
    assert "window closes at 10:30 on 10 Mar 2026 (Bangkok time)" in english
    assert "10 มี.ค. 2569 เวลา 10:30 น." in thai


def test_a_wake_up_strokes_alerts_say_the_window_is_estimated_in_both_languages() -> None:
    # LKW estimated at 21:56 on 31 Jan: the window closes about 02:26 on 1 February.
    lkw = datetime(2026, 1, 31, 21, 56, tzinfo=BKK)
    estimated = Milestone(M.LAST_KNOWN_WELL, lkw, lkw, TimeSource.ESTIMATED, True)
    alerts = due_alerts([estimated], now=lkw + timedelta(hours=4))
    assert [a.code for a in alerts] == [A.LKW_3H30, A.LKW_4H]
    assert all(a.uncertain for a in alerts)
    english, thai = alert_text(alerts[0], Language.ENGLISH), alert_text(alerts[0], Language.THAI)
    assert english.endswith(
        "3.5 h since last known well (estimated), no thrombolytic given; window closes about "
        "02:26 on 1 Feb 2026 (Bangkok time) if LKW is right."
    )
    assert "ประมาณ 1 ก.พ. 2569 เวลา 02:26 น." in thai
    assert "หากเวลาที่ปกติครั้งสุดท้ายถูกต้อง" in thai
    assert "(เวลาโดยประมาณ)" in thai


@pytest.mark.parametrize(
    ("moment", "month"),
    [
        pytest.param(
            datetime(2026, 10, 31, 18, 30, tzinfo=UTC), "2026-11", id="utc-evening-is-next-month"
        ),
        pytest.param(datetime(2026, 10, 31, 16, 59, tzinfo=UTC), "2026-10", id="23h59-bangkok"),
        pytest.param(datetime(2026, 11, 1, 0, 0, tzinfo=PLUS7), "2026-11", id="midnight-plus7"),
        pytest.param(datetime(2026, 12, 31, 17, 0, tzinfo=UTC), "2027-01", id="new-year"),
    ],
)
def test_bangkok_month(moment: datetime, month: str) -> None:
    assert bangkok_month(moment) == month


def referral(
    hospital: str, door: datetime, dtn: float | None, dido: float | None, ct: float | None
) -> HospitalOutcome:
    milestones = [Milestone(M.DOOR_IN_FIRST, door, door, hospital=hospital)]
    for code, minutes in ((M.NEEDLE, dtn), (M.DOOR_OUT_FIRST, dido), (M.CT_STARTED, ct)):
        if minutes is not None:
            moment = door + timedelta(minutes=minutes)
            milestones.append(Milestone(code, moment, moment, hospital=hospital))
    (outcome,) = outcomes_of(milestones)
    return outcome


OCT = datetime(2026, 10, 15, 3, 0, tzinfo=UTC)
NOV_IN_BANGKOK = datetime(2026, 10, 31, 18, 30, tzinfo=UTC)  # 01:30 on 1 November in Bangkok
OUTCOMES = [
    referral("hosp-b", OCT, 50, None, 30),
    referral("hosp-a", OCT, 25, 80, 20),
    referral("hosp-a", OCT + timedelta(days=1), 50, 100, 30),
    referral("hosp-a", OCT + timedelta(days=2), 70, 130, 22),
    referral("hosp-a", OCT + timedelta(days=3), None, None, None),
    referral("hosp-a", NOV_IN_BANGKOK, 40, None, None),
]
NOTHING = {"dtn_uncertain_count": 0, "dido_uncertain_count": 0, "lkw_uncertain_count": 0}
NO_DEVICE = {"door_to_device_count": 0, "door_to_device_median_min": None}
# No teleconsult in these outcomes (tests/unit/test_consult_times.py has them).
NO_CONSULT: dict[str, object] = {"consult_count": 0} | dict.fromkeys(CONSULT_COLUMNS[1:])
EXPECTED_ROWS: list[dict[str, object]] = [
    {
        "hospital_id": "hosp-a",
        "month": "2026-10",
        "patients": 4,
        "dtn_count": 3,
        "dtn_le_60_pct": 66.7,
        "dtn_le_45_pct": 33.3,
        "dtn_le_30_pct": 33.3,
        "dtn_median_min": 50.0,
        "dido_count": 3,
        "dido_le_120_pct": 66.7,
        "dido_le_90_pct": 33.3,
        "dido_median_min": 100.0,
        "door_to_ct_count": 3,
        "door_to_ct_le_25_pct": 66.7,
        "door_to_ct_median_min": 22.0,
        **NO_DEVICE,
        **NOTHING,
        **NO_CONSULT,
    },
    {
        "hospital_id": "hosp-a",
        "month": "2026-11",
        "patients": 1,
        "dtn_count": 1,
        "dtn_le_60_pct": 100.0,
        "dtn_le_45_pct": 100.0,
        "dtn_le_30_pct": 0.0,
        "dtn_median_min": 40.0,
        "dido_count": 0,
        "dido_le_120_pct": None,
        "dido_le_90_pct": None,
        "dido_median_min": None,
        "door_to_ct_count": 0,
        "door_to_ct_le_25_pct": None,
        "door_to_ct_median_min": None,
        **NO_DEVICE,
        **NOTHING,
        **NO_CONSULT,
    },
    {
        "hospital_id": "hosp-b",
        "month": "2026-10",
        "patients": 1,
        "dtn_count": 1,
        "dtn_le_60_pct": 100.0,
        "dtn_le_45_pct": 0.0,
        "dtn_le_30_pct": 0.0,
        "dtn_median_min": 50.0,
        "dido_count": 0,
        "dido_le_120_pct": None,
        "dido_le_90_pct": None,
        "dido_median_min": None,
        "door_to_ct_count": 1,
        "door_to_ct_le_25_pct": 0.0,
        "door_to_ct_median_min": 30.0,
        **NO_DEVICE,
        **NOTHING,
        **NO_CONSULT,
    },
]


def test_kpi_report_groups_by_hospital_and_bangkok_month() -> None:
    rows = kpi_report(OUTCOMES)
    assert rows == EXPECTED_ROWS
    assert [tuple(row) for row in rows] == [KPI_COLUMNS] * 3


def test_kpi_report_of_nothing_is_empty() -> None:
    assert kpi_report([]) == []
    assert kpi_csv([]).splitlines() == [",".join(KPI_COLUMNS)]


def test_kpi_csv_gives_shares_as_percentages() -> None:
    text = kpi_csv(kpi_report(OUTCOMES))
    lines = text.splitlines()
    assert lines[0] == ",".join(KPI_COLUMNS)
    assert lines[1] == (
        "hosp-a,2026-10,4,3,66.7,33.3,33.3,50.0,0,3,66.7,33.3,100.0,0,3,66.7,22.0,0,,0,0,,,,,"
    )
    assert lines[2] == "hosp-a,2026-11,1,1,100.0,100.0,0.0,40.0,0,0,,,,0,0,,,0,,0,0,,,,,"
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert [(r["hospital_id"], r["month"]) for r in parsed] == [
        ("hosp-a", "2026-10"),
        ("hosp-a", "2026-11"),
        ("hosp-b", "2026-10"),
    ]


@pytest.mark.parametrize("month", ["2026-13", "26-10", "2026-1", ""])
def test_outcome_month_must_be_yyyy_mm(month: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        HospitalOutcome("hosp-a", month, {})


def test_a_patient_without_a_door_in_is_not_placed_in_any_month() -> None:
    assert outcomes_of([ms(M.NEEDLE, 0)]) == []
