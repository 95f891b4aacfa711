"""The referral page as the reader sees it, in their language: the clock since last known well,
the treatment windows counting down (domain/window_states.py colours them), the milestone
buttons of the reader's hospital (set ones with time and who, unset ones greyed), the metrics
against their targets and the timeline. Pure: built from what service/referral_page.py read and
the time now; the templates only lay it out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from services.referral.domain.assessment import StrokeAssessment
from services.referral.domain.clock import Clock, Milestone
from services.referral.domain.commands import ClinicalTime
from services.referral.domain.metrics import compute_metrics, window_countdowns
from services.referral.domain.routing_reasons import RoutingReason
from services.referral.domain.window_states import TREATMENT_OF, WindowState, window_state
from services.referral.domain.windows import TreatmentWindow
from services.referral.service.milestone_entry import TAPPABLE, milestone_at
from services.referral.service.referral_page import MilestoneReport, ReferralReading
from shared.fhir.codes import EVENT_TERMS, EventCode
from shared.vocabulary.milestones import MILESTONE_TERMS, MilestoneCode
from shared.vocabulary.terms import Language, Term
from shared.workflow.task_state import TaskStatus

BUTTON_TERMS: dict[ClinicalTime, Term] = {
    ClinicalTime.DOOR_IN: Term("Door-in", "ถึงโรงพยาบาล"),
    ClinicalTime.CT_STARTED: Term("CT", "เริ่ม CT"),
    ClinicalTime.NEEDLE: Term("Needle", "ให้ยาละลายลิ่มเลือด"),
    ClinicalTime.GROIN_PUNCTURE: Term("Groin puncture", "เริ่มใส่สายสวน"),
    ClinicalTime.DOOR_OUT: Term("Door-out", "ออกจากโรงพยาบาล"),
}
WINDOW_TERMS: dict[TreatmentWindow, Term] = {
    TreatmentWindow.THROMBOLYSIS: Term("Thrombolysis (4.5 h)", "ยาละลายลิ่มเลือด (4.5 ชม.)"),
    TreatmentWindow.THROMBECTOMY: Term("Thrombectomy (6 h)", "ใส่สายสวนลากลิ่มเลือด (6 ชม.)"),
    TreatmentWindow.THROMBECTOMY_EXTENDED: Term(
        "Thrombectomy, selected patients (24 h)", "ใส่สายสวน ผู้ป่วยที่คัดเลือก (24 ชม.)"
    ),
}
THROMBOLYSIS_GIVE = Term("thrombolysis: give", "ให้ยาละลายลิ่มเลือด")
THROMBOLYSIS_WITHHOLD = Term("thrombolysis: do not give", "ไม่ให้ยาละลายลิ่มเลือด")
TRANSFER_FOR_THROMBECTOMY = Term("transfer for thrombectomy", "ส่งต่อเพื่อใส่สายสวน")
NEEDLE_CONFIRMED = Term(
    "the spoke confirmed the recommended thrombolysis",
    "โรงพยาบาลต้นทางยืนยันการให้ยาละลายลิ่มเลือดตามคำแนะนำ",
)
STATUS_TERMS: dict[TaskStatus, Term] = {
    TaskStatus.REQUESTED: Term("Waiting for an answer", "รอการตอบรับ"),
    TaskStatus.RECEIVED: Term("Seen, waiting for an answer", "รับทราบแล้ว รอการตอบรับ"),
    TaskStatus.ACCEPTED: Term("Accepted", "ตอบรับแล้ว"),
    TaskStatus.REJECTED: Term("Declined", "ปฏิเสธ"),
    TaskStatus.CANCELLED: Term("Cancelled", "ยกเลิก"),
    TaskStatus.IN_PROGRESS: Term("In transfer", "กำลังส่งตัว"),
    TaskStatus.COMPLETED: Term("Completed", "เสร็จสิ้น"),
}
METRIC_TERMS: dict[str, Term] = {
    "onset-to-door": Term("Onset to door", "เริ่มอาการถึงโรงพยาบาล"),
    "door-to-physician": Term("Door to physician", "ถึงโรงพยาบาลถึงพบแพทย์"),
    "door-to-ct": Term("Door to CT", "ถึงโรงพยาบาลถึง CT"),
    "referral-response": Term("Referral response", "ตอบรับการส่งต่อ"),
    "door-to-needle": Term("Door to needle", "ถึงโรงพยาบาลถึงให้ยา"),
    "hub-door-to-needle": Term("Door to needle (receiving)", "ถึงโรงพยาบาลปลายทางถึงให้ยา"),
    "onset-to-needle": Term("Onset to needle", "เริ่มอาการถึงให้ยา"),
    "dido": Term("Door-in to door-out", "เข้าถึงออกจากโรงพยาบาลแรก"),
    "dido-90": Term("Door-in to door-out (90 min)", "เข้าถึงออกจากโรงพยาบาลแรก (90 นาที)"),
    "door-to-device": Term("Door to groin puncture", "ถึงโรงพยาบาลถึงใส่สายสวน"),
    "transport-vs-eta": Term("Arrival against ETA", "เวลาถึงเทียบกับเวลาที่คาด"),
    "closure": Term("Loop closed", "แจ้งผลกลับ"),
}


@dataclass(frozen=True)
class WindowView:
    code: str
    label: str
    closes_at: datetime
    minutes_left: int
    state: WindowState
    uncertain: bool

    @property
    def left(self) -> timedelta:
        return timedelta(minutes=self.minutes_left)


@dataclass(frozen=True)
class MilestoneButton:
    kind: str  # the ClinicalTime the form posts
    label: str
    occurred_at: datetime | None  # None: not set yet (greyed)
    who: str | None
    uncertain: bool = False
    # Earlier reports of the same milestone, oldest first (a correction keeps them).
    history: tuple[MilestoneReport, ...] = ()

    @property
    def is_set(self) -> bool:
        return self.occurred_at is not None


@dataclass(frozen=True)
class MetricView:
    code: str
    label: str
    duration: timedelta
    target: timedelta | None
    met: bool | None
    uncertain: bool


@dataclass(frozen=True)
class TimelineLine:
    occurred_at: datetime
    label: str
    who: str
    note: str = ""


@dataclass(frozen=True)
class ReferralView:
    id: str
    status: str
    status_text: str
    requester: str
    owner: str
    hospital_number: str | None  # None: hidden (an operator reads without patient data)
    last_known_well: datetime | None
    lkw_uncertain: bool
    since_lkw: timedelta | None
    windows: list[WindowView]
    buttons: list[MilestoneButton]
    metrics: list[MetricView]
    clock_error: str | None
    timeline: list[TimelineLine]
    nihss: int | None = None
    findings: StrokeAssessment = field(default_factory=StrokeAssessment)
    # The routing engine's reasons, hospitals named (a page words them in its language); a
    # referral routed before reasons had codes keeps its English sentences.
    routing_reasons: tuple[RoutingReason | str, ...] = ()


def _name(reading: ReferralReading, organization: str | None, language: Language) -> str:
    if organization is None:
        return ""
    english, thai = reading.hospitals.get(organization, (organization, None))
    return thai if language is Language.THAI and thai else english


def _who(reading: ReferralReading, source: str, language: Language) -> str:
    """A person's name as recorded, else the hospital (``Organization/<id>``) by its name."""
    if source.startswith("Organization/"):
        return _name(reading, source.removeprefix("Organization/"), language)
    return source


def window_views(
    milestones: list[Milestone], *, now: datetime, language: Language
) -> list[WindowView]:
    """Each treatment window from last known well, coloured by the time left (done once its
    treatment was given anywhere)."""
    clock = Clock(milestones)
    return [
        WindowView(
            code=countdown.code.value,
            label=WINDOW_TERMS[countdown.code].text(language),
            closes_at=countdown.closes_at,
            minutes_left=countdown.minutes_left,
            state=window_state(
                countdown.minutes_left, treated=clock.get(TREATMENT_OF[countdown.code]) is not None
            ),
            uncertain=countdown.uncertain,
        )
        for countdown in window_countdowns(milestones, now=now)
    ]


def milestone_buttons(reading: ReferralReading, *, language: Language) -> list[MilestoneButton]:
    """The reader's hospital's buttons (none for an operator): what it can record, set or not."""
    hospital = reading.reader_hospital
    if hospital is None:
        return []
    buttons = []
    for kind in TAPPABLE:
        code = milestone_at(reading.referral, kind, hospital=hospital)
        if code is None:
            continue
        here = [m for m in reading.milestones if m.code is code and m.hospital == hospital]
        current = max(here, key=lambda m: m.recorded_at, default=None)
        reports = tuple(
            r for r in reading.reports if r.code == code.value and r.hospital == hospital
        )
        who = reports[-1].who if reports else (_name(reading, hospital, language) or None)
        buttons.append(
            MilestoneButton(
                kind=kind.value,
                label=BUTTON_TERMS[kind].text(language),
                occurred_at=current.occurred_at if current else None,
                who=_who(reading, who, language) if current and who else None,
                uncertain=current.doubtful if current else False,
                history=reports[:-1] if current else (),
            )
        )
    return buttons


def metric_views(
    milestones: list[Milestone], *, language: Language
) -> tuple[list[MetricView], str | None]:
    """The metrics whose two times are known, against their targets; or none and why, when two
    times contradict each other."""
    try:
        metrics = compute_metrics(milestones)
    except ValueError as contradiction:
        return [], str(contradiction)
    return [
        MetricView(
            code=code,
            label=METRIC_TERMS.get(code, Term(code, code)).text(language),
            duration=timedelta(minutes=metric.minutes),
            target=None
            if metric.target_minutes is None
            else timedelta(minutes=metric.target_minutes),
            met=metric.met,
            uncertain=metric.uncertain,
        )
        for code, metric in metrics.items()
    ], None


def _timeline_line(
    reading: ReferralReading, step_code: str, detail: dict[str, object], language: Language
) -> tuple[str, str]:
    """The label and a short note of one timeline step."""
    try:
        label = EVENT_TERMS[EventCode(step_code)].text(language)
    except (KeyError, ValueError):
        label = step_code
    milestone = detail.get("milestone")
    notes: list[str] = []
    if isinstance(milestone, str) and milestone in MilestoneCode.__members__.values():
        notes.append(MILESTONE_TERMS[MilestoneCode(milestone)].text(language))
    for key in ("reason", "correction_reason", "outcome"):
        if detail.get(key):
            notes.append(str(detail[key]))
    channels = detail.get("channel")
    if isinstance(channels, list) and channels:
        notes.append(", ".join(str(c) for c in channels))
    if detail.get("stage"):  # a teleconsult's step (paging, accepted, in-video, ...)
        notes.append(str(detail["stage"]))
    advice = detail.get("recommendation")
    if isinstance(advice, dict) and advice.get("needle"):
        notes.append(NEEDLE_CONFIRMED.text(language))
    elif isinstance(advice, dict):
        notes.append(_recommendation(advice, language))
    if detail.get("transfer"):  # the transfer referral a recommendation started: its id
        notes.append(f"{detail.get('to')} ({detail['transfer']})")
    return label, " · ".join(notes)


def _recommendation(advice: dict[str, object], language: Language) -> str:
    """A neurologist's structured advice in a few words."""
    give = advice.get("thrombolysis") == "give"
    words = [
        (THROMBOLYSIS_GIVE if give else THROMBOLYSIS_WITHHOLD).text(language),
        *([str(advice["dose"])] if give and advice.get("dose") else []),
    ]
    if advice.get("thrombectomy-transfer"):
        words.append(TRANSFER_FOR_THROMBECTOMY.text(language))
    return ", ".join(words)


def _routing_reasons(
    reading: ReferralReading, routing: dict[str, Any], language: Language
) -> tuple[RoutingReason | str, ...]:
    coded = [RoutingReason.from_json(r) for r in routing.get("reason_codes", ())]
    if coded and all(coded):
        return tuple(r.named(lambda h: _name(reading, h, language)) for r in coded if r)
    return tuple(str(r) for r in routing.get("reasons", ()))


_SENT = frozenset({EventCode.REFERRAL_REQUESTED.value, EventCode.STROKE_PREALERT.value})


def referral_view(reading: ReferralReading, *, now: datetime, language: Language) -> ReferralView:
    referral = reading.referral
    lkw = Clock(reading.milestones).get(MilestoneCode.LAST_KNOWN_WELL)
    metrics, clock_error = metric_views(reading.milestones, language=language)
    timeline = []
    for step in reading.timeline:
        label, note = _timeline_line(reading, step.event_code, step.detail, language)
        # A person's name: who sent the referral from the web app, recorded a time on this page
        # or acknowledged on the hub's board.
        person = step.detail.get("recorded_by") or step.detail.get("by")
        if step.event_code in _SENT and referral.requested_by:
            person = referral.requested_by
        who = str(person) if person else _who(reading, step.source, language)
        timeline.append(TimelineLine(step.occurred_at, label, who, note))
    routing = referral.routing or {}
    return ReferralView(
        id=referral.id,
        status=referral.status.value,
        status_text=STATUS_TERMS.get(
            referral.status, Term(referral.status.value, referral.status.value)
        ).text(language),
        requester=_name(reading, referral.requester_org, language),
        owner=_name(reading, referral.owner_org, language),
        hospital_number=(referral.patient_hn or None) if reading.patient_data else None,
        last_known_well=lkw.occurred_at if lkw else None,
        lkw_uncertain=lkw.doubtful if lkw else False,
        since_lkw=now - lkw.occurred_at if lkw else None,
        windows=window_views(reading.milestones, now=now, language=language),
        buttons=milestone_buttons(reading, language=language),
        metrics=metrics,
        clock_error=clock_error,
        timeline=timeline,
        nihss=referral.nihss if reading.patient_data else None,
        findings=(
            StrokeAssessment.from_json(referral.assessment)
            if reading.patient_data
            else StrokeAssessment()
        ),
        routing_reasons=_routing_reasons(reading, routing, language),
    )
