"""Stroke fast-track clocks: metrics, treatment-window countdowns, pre-breach alerts and KPIs.

Pure functions over milestone times (DOMAIN.md section 2). Every datetime must be time-zone
aware; durations are then right whatever zone each one carries (hospital systems mix +07:00 and
UTC). Months for the KPI report are Bangkok calendar months.
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from services.referral.domain.readable_time import BANGKOK, english_moment, thai_moment


class MilestoneCode(StrEnum):
    LAST_KNOWN_WELL = "lkw"
    DOOR_IN_FIRST = "door-in-first"
    PHYSICIAN_SEEN = "physician-seen"
    CT_STARTED = "ct-started"
    REFERRAL_REQUESTED = "referral-requested"  # milestone 5 is a pair: requested -> accepted
    REFERRAL_ACCEPTED = "referral-accepted"
    NEEDLE = "needle"
    DOOR_OUT_FIRST = "door-out-first"
    DOOR_IN_RECEIVING = "door-in-receiving"
    GROIN_PUNCTURE = "groin-puncture"
    LOOP_CLOSED = "loop-closed"


class TimeSource(StrEnum):
    RECORDED = "recorded"
    DEVICE = "device"
    ESTIMATED = "estimated"


def _require_aware(name: str, moment: datetime) -> None:
    # A naive time cannot be compared with the others without guessing its zone.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must carry a time zone: {moment.isoformat()}")


@dataclass(frozen=True)
class Milestone:
    code: MilestoneCode
    occurred_at: datetime  # when it happened clinically
    recorded_at: datetime  # when the system learned of it
    source: TimeSource = TimeSource.RECORDED
    uncertain: bool = False

    def __post_init__(self) -> None:
        _require_aware("occurred_at", self.occurred_at)
        _require_aware("recorded_at", self.recorded_at)

    @property
    def doubtful(self) -> bool:
        return self.uncertain or self.source is TimeSource.ESTIMATED


@dataclass(frozen=True)
class Metric:
    code: str
    minutes: float
    target_minutes: float | None
    met: bool | None  # None when the metric has no target
    uncertain: bool  # any input uncertain or estimated


M = MilestoneCode
# (metric, from, to, target minutes). Targets and sources: DOMAIN.md section 2.
_SPANS: tuple[tuple[str, MilestoneCode, MilestoneCode, float | None], ...] = (
    ("onset-to-door", M.LAST_KNOWN_WELL, M.DOOR_IN_FIRST, 120.0),  # GWTG-Stroke 2 h arrival
    ("door-to-physician", M.DOOR_IN_FIRST, M.PHYSICIAN_SEEN, 10.0),  # Thai SFT audit (Theppharat)
    ("door-to-ct", M.DOOR_IN_FIRST, M.CT_STARTED, 25.0),  # Thai KPI (Phuket MOPH)
    ("referral-response", M.REFERRAL_REQUESTED, M.REFERRAL_ACCEPTED, 10.0),  # local SLA choice
    ("door-to-needle", M.DOOR_IN_FIRST, M.NEEDLE, 60.0),  # AHA Target: Stroke III; MOPH
    ("onset-to-needle", M.LAST_KNOWN_WELL, M.NEEDLE, None),  # tracked, no published target
    ("dido", M.DOOR_IN_FIRST, M.DOOR_OUT_FIRST, 120.0),  # guideline (Stamm, JAMA 2023)
    ("dido-90", M.DOOR_IN_FIRST, M.DOOR_OUT_FIRST, 90.0),  # evidence (Royan, Lancet Neurol 2026)
    ("closure", M.REFERRAL_REQUESTED, M.LOOP_CLOSED, None),  # closed loop (360X/BSeR): no time
)
# Door-to-device counts from the door of the hospital that punctures (AHA Target: Stroke III).
DEVICE_TARGET_TRANSFER = 60.0
DEVICE_TARGET_DIRECT = 90.0
# Windows from LKW (AHA/ASA 2019): thrombolysis 4.5 h, thrombectomy 6 h, selected up to 24 h.
WINDOWS: tuple[tuple[str, timedelta], ...] = (
    ("thrombolysis", timedelta(hours=4.5)),
    ("thrombectomy", timedelta(hours=6)),
    ("thrombectomy-extended", timedelta(hours=24)),
)


def _minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60


def _by_code(milestones: Iterable[Milestone]) -> dict[MilestoneCode, Milestone]:
    """One milestone per code: a later record of the same code corrects an earlier one."""
    latest: dict[MilestoneCode, Milestone] = {}
    for milestone in milestones:
        seen = latest.get(milestone.code)
        if seen is None or milestone.recorded_at >= seen.recorded_at:
            latest[milestone.code] = milestone
    return latest


def _span(code: str, start: Milestone, end: Milestone, target: float | None) -> Metric:
    minutes = _minutes(end.occurred_at - start.occurred_at)
    if minutes < 0:  # a clock error somewhere: do not report a flattering negative time
        raise ValueError(
            f"{end.code.value} ({end.occurred_at.isoformat()}) is before "
            f"{start.code.value} ({start.occurred_at.isoformat()})"
        )
    met = None if target is None else minutes <= target
    return Metric(code, minutes, target, met, start.doubtful or end.doubtful)


def compute_metrics(
    milestones: Iterable[Milestone], *, eta: datetime | None = None
) -> dict[str, Metric]:
    """Every metric whose two milestones are known; raises ValueError on a negative duration."""
    got = _by_code(milestones)
    out: dict[str, Metric] = {}
    for code, start, end, target in _SPANS:
        if start in got and end in got:
            out[code] = _span(code, got[start], got[end], target)
    arrived = got.get(M.DOOR_IN_RECEIVING)
    if eta is not None and arrived is not None:
        _require_aware("eta", eta)
        # Minutes late against the ETA (negative = early, which is fine: ThaiRefer's ETA concept).
        late = _minutes(arrived.occurred_at - eta)
        out["transport-vs-eta"] = Metric("transport-vs-eta", late, 0.0, late <= 0, arrived.doubtful)
    puncture = got.get(M.GROIN_PUNCTURE)
    door = arrived or got.get(M.DOOR_IN_FIRST)
    if puncture is not None and door is not None:
        target = DEVICE_TARGET_TRANSFER if arrived is not None else DEVICE_TARGET_DIRECT
        out["door-to-device"] = _span("door-to-device", door, puncture, target)
    return out


@dataclass(frozen=True)
class WindowCountdown:
    code: str  # thrombolysis | thrombectomy | thrombectomy-extended
    closes_at: datetime
    minutes_left: float  # negative once closed
    uncertain: bool


def window_countdowns(milestones: Iterable[Milestone], *, now: datetime) -> list[WindowCountdown]:
    _require_aware("now", now)
    lkw = _by_code(milestones).get(M.LAST_KNOWN_WELL)
    if lkw is None:
        return []
    return [
        WindowCountdown(
            code, lkw.occurred_at + span, _minutes(lkw.occurred_at + span - now), lkw.doubtful
        )
        for code, span in WINDOWS
    ]


class AlertCode(StrEnum):
    LKW_3H30 = "lkw-3h30-no-needle"
    LKW_4H = "lkw-4h-no-needle"
    DIDO_APPROACHING = "dido-approaching-90"
    DIDO_120 = "dido-approaching-120"
    REFERRAL_NOT_ACCEPTED = "referral-not-accepted"
    LATER_THAN_ETA = "later-than-eta"


@dataclass(frozen=True)
class Alert:
    code: AlertCode
    due_at: datetime
    # English and Thai, no patient data (PDPA: the link to the authenticated page says more).
    message: str
    uncertain: bool
    message_th: str = ""


def _lkw_texts(after: timedelta, closes: datetime, uncertain: bool) -> tuple[str, str]:
    hours = f"{after / timedelta(hours=1):g}"
    if uncertain:
        return (
            f"{hours} h since last known well (estimated), no thrombolytic given; window "
            f"closes about {english_moment(closes)} if LKW is right.",
            f"ผ่านไป {hours} ชั่วโมงนับจากเวลาที่ปกติครั้งสุดท้าย (เวลาโดยประมาณ) "
            f"ยังไม่ได้ให้ยาละลายลิ่มเลือด ช่วงเวลาให้ยาจะสิ้นสุดประมาณ {thai_moment(closes)} "
            "หากเวลาที่ปกติครั้งสุดท้ายถูกต้อง",
        )
    return (
        f"{hours} h since last known well, no thrombolytic given; window closes at "
        f"{english_moment(closes)}.",
        f"ผ่านไป {hours} ชั่วโมงนับจากเวลาที่ปกติครั้งสุดท้าย ยังไม่ได้ให้ยาละลายลิ่มเลือด "
        f"ช่วงเวลาให้ยาจะสิ้นสุด {thai_moment(closes)}",
    )


def _dido_texts(minutes: int, reached: datetime, uncertain: bool) -> tuple[str, str]:
    about, about_th = ("about ", "ประมาณ ") if uncertain else ("", "")
    return (
        f"Door-in-door-out reaches {minutes} min at {about}{english_moment(reached)}; "
        "patient not yet out.",
        f"ผู้ป่วยจะอยู่ในโรงพยาบาลครบ {minutes} นาที (door-in-door-out) {about_th}"
        f"{thai_moment(reached)} ยังไม่ได้ส่งตัวออก",
    )


# When the alerts fall due (DOMAIN.md section 2): after last known well without a needle, and
# a lead time before each door-in-door-out target (the lead is a local choice).
LKW_ALERTS: tuple[tuple[AlertCode, timedelta], ...] = (
    (AlertCode.LKW_3H30, timedelta(hours=3.5)),
    (AlertCode.LKW_4H, timedelta(hours=4)),
)
DIDO_LIMITS: tuple[tuple[AlertCode, timedelta], ...] = (
    (AlertCode.DIDO_APPROACHING, timedelta(minutes=90)),
    (AlertCode.DIDO_120, timedelta(minutes=120)),
)
DIDO_WARNING_LEAD = timedelta(minutes=15)


def _pending(
    got: Mapping[MilestoneCode, Milestone], accept_by: datetime | None, eta: datetime | None
) -> list[Alert]:
    """Every alert still to come or overdue, ignoring what was already sent."""
    out: list[Alert] = []
    lkw = got.get(M.LAST_KNOWN_WELL)
    if lkw is not None and M.NEEDLE not in got:
        # AHA/ASA 2019 window of 4.5 h; warn at 3.5 h and 4 h (DOMAIN.md section 2).
        closes = lkw.occurred_at + WINDOWS[0][1]
        for code, after in LKW_ALERTS:
            text, thai = _lkw_texts(after, closes, lkw.doubtful)
            out.append(Alert(code, lkw.occurred_at + after, text, lkw.doubtful, thai))
    door = got.get(M.DOOR_IN_FIRST)
    if door is not None and M.DOOR_OUT_FIRST not in got:
        # 15 min warning before the 90 and 120 min DIDO targets (the lead time is a local choice).
        for code, limit in DIDO_LIMITS:
            reached = door.occurred_at + limit
            minutes = int(limit / timedelta(minutes=1))
            text, thai = _dido_texts(minutes, reached, door.doubtful)
            out.append(Alert(code, reached - DIDO_WARNING_LEAD, text, door.doubtful, thai))
    if accept_by is not None and M.REFERRAL_REQUESTED in got and M.REFERRAL_ACCEPTED not in got:
        _require_aware("accept_by", accept_by)
        text = (
            f"Referral not accepted by its deadline, {english_moment(accept_by)}; "
            "consider re-routing."
        )
        thai = f"ยังไม่มีการตอบรับการส่งต่อภายใน {thai_moment(accept_by)} โปรดพิจารณาส่งต่อโรงพยาบาลอื่น"
        out.append(Alert(AlertCode.REFERRAL_NOT_ACCEPTED, accept_by, text, False, thai))
    if eta is not None and M.DOOR_IN_RECEIVING not in got:
        _require_aware("eta", eta)
        text = f"Patient not arrived at the receiving hospital by the ETA, {english_moment(eta)}."
        thai = f"ผู้ป่วยยังไม่ถึงโรงพยาบาลปลายทางตามเวลาที่คาดไว้ {thai_moment(eta)}"
        out.append(Alert(AlertCode.LATER_THAN_ETA, eta, text, False, thai))
    return out


def due_alerts(
    milestones: Iterable[Milestone],
    *,
    now: datetime,
    accept_by: datetime | None = None,
    eta: datetime | None = None,
    already_sent: Collection[AlertCode] = (),
) -> list[Alert]:
    """Alerts due by ``now`` and not sent yet, earliest first."""
    _require_aware("now", now)
    due = [
        alert
        for alert in _pending(_by_code(milestones), accept_by, eta)
        if alert.due_at <= now and alert.code not in already_sent
    ]
    return sorted(due, key=lambda alert: (alert.due_at, alert.code.value))


def next_alert_at(
    milestones: Iterable[Milestone],
    *,
    accept_by: datetime | None = None,
    eta: datetime | None = None,
    already_sent: Collection[AlertCode] = (),
    now: datetime | None = None,
) -> datetime | None:
    """When a scheduler should wake: the earliest unsent alert's due time (after ``now`` if
    given; without ``now`` an overdue alert's past time is returned, meaning "wake now")."""
    if now is not None:
        _require_aware("now", now)
    times = [
        alert.due_at
        for alert in _pending(_by_code(milestones), accept_by, eta)
        if alert.code not in already_sent and (now is None or alert.due_at > now)
    ]
    return min(times, default=None)


def bangkok_month(moment: datetime) -> str:
    """The "YYYY-MM" of ``moment`` on a Bangkok calendar (KPIs are reported by local month)."""
    _require_aware("moment", moment)
    return f"{moment.astimezone(BANGKOK):%Y-%m}"


@dataclass(frozen=True)
class ReferralOutcome:
    hospital_id: str
    month: str  # "YYYY-MM", Bangkok local month of door-in-first
    metrics: Mapping[str, Metric]

    def __post_init__(self) -> None:
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", self.month):
            raise ValueError(f"month must be YYYY-MM: {self.month!r}")

    @classmethod
    def from_milestones(
        cls, hospital_id: str, milestones: Iterable[Milestone], *, eta: datetime | None = None
    ) -> ReferralOutcome:
        known = list(milestones)
        door = _by_code(known).get(M.DOOR_IN_FIRST)
        if door is None:
            raise ValueError("door-in-first is needed to place a referral in a month")
        month = bangkok_month(door.occurred_at)
        return cls(hospital_id, month, compute_metrics(known, eta=eta))


KPI_COLUMNS: tuple[str, ...] = (
    "hospital_id",
    "month",
    "referrals",
    "dtn_count",
    "dtn_le_60_share",
    "dtn_le_45_share",
    "dtn_le_30_share",
    "dtn_median_min",
    "dido_count",
    "dido_le_120_share",
    "dido_le_90_share",
    "dido_median_min",
    "door_to_ct_median_min",
)


def _share(values: list[float], limit: float) -> float | None:
    # DTN goals are shares (AHA Target: Stroke III >= 85/75/50 %, MOPH >= 65 % within 60 min).
    return round(sum(v <= limit for v in values) / len(values), 3) if values else None


def _values(sets: list[Mapping[str, Metric]], code: str) -> list[float]:
    return [metrics[code].minutes for metrics in sets if code in metrics]


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def kpi_report(outcomes: Iterable[ReferralOutcome]) -> list[dict[str, object]]:
    """One row per (hospital, month), sorted; keys in ``KPI_COLUMNS`` order."""
    groups: dict[tuple[str, str], list[Mapping[str, Metric]]] = {}
    for outcome in outcomes:
        groups.setdefault((outcome.hospital_id, outcome.month), []).append(outcome.metrics)
    rows: list[dict[str, object]] = []
    for (hospital_id, month), sets in sorted(groups.items()):
        dtn, dido, ct = (_values(sets, code) for code in ("door-to-needle", "dido", "door-to-ct"))
        rows.append(
            {
                "hospital_id": hospital_id,
                "month": month,
                "referrals": len(sets),
                "dtn_count": len(dtn),
                "dtn_le_60_share": _share(dtn, 60),
                "dtn_le_45_share": _share(dtn, 45),
                "dtn_le_30_share": _share(dtn, 30),
                "dtn_median_min": _median(dtn),
                "dido_count": len(dido),
                "dido_le_120_share": _share(dido, 120),
                "dido_le_90_share": _share(dido, 90),
                "dido_median_min": _median(dido),
                "door_to_ct_median_min": _median(ct),
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
