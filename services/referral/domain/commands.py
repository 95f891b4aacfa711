"""Commands: what hospitals (and the network itself) ask of the referral service. Immutable,
imperative, checked on construction; the use cases in service/ carry them out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from services.referral.domain.assessment import StrokeAssessment
from services.referral.domain.errors import InvalidReferral
from shared.fhir.codes import EventCode
from shared.workflow.task_state import TaskStatus

MAX_NIHSS = 42


class ClinicalTime(StrEnum):
    """What a clinical time a hospital reports is, before we know where it happened."""

    LAST_KNOWN_WELL = "lkw"
    DOOR_IN = "door-in"
    DOOR_OUT = "door-out"
    PHYSICIAN_SEEN = "physician-seen"
    CT_STARTED = "ct-started"
    NEEDLE = "needle"
    GROIN_PUNCTURE = "groin-puncture"


@dataclass(frozen=True, kw_only=True)
class ReportedTime:
    """A clinical time a hospital reports (from Encounter, ImagingStudy, ...), before we know
    which milestone it is: a door-in is the first hospital's or the receiving one's."""

    # None: a time the network stamps itself (the event's own milestone, the request).
    kind: ClinicalTime | None
    occurred_at: datetime
    source: str = "recorded"  # recorded | device | estimated
    uncertain: bool = False
    # Where it happened, when the resource says (location, performer); else the sender's.
    hospital: str | None = None


@dataclass(frozen=True, kw_only=True)
class RequestReferral:
    """Command: a spoke hospital asks the hub to take a suspected stroke patient."""

    referral_id: str
    request_message_id: str
    requester_org: str
    owner_org: str
    patient_hn: str
    # The hospital number's identifier system, when not the project's own.
    patient_hn_system: str | None = None
    patient_gender: str | None = None
    patient_birth_date: str | None = None
    last_known_well: datetime | None = None
    # How sure the LKW is: recorded | device | estimated, and uncertain (a wake-up stroke).
    lkw_source: str = "recorded"
    lkw_uncertain: bool = False
    nihss: int | None = None
    suspected_lvo: bool | None = None
    teleconsult_requested: bool = False
    requested_at: datetime
    # A pre-alert announces the patient before the full referral (hospital number may be unknown).
    prealert: bool = False
    # When the receiving hospital must have answered (Task.restriction.period.end), or None for
    # the network's default response time.
    accept_by: datetime | None = None
    # The referral this one re-routes (declined, or not accepted in time).
    replaces: str | None = None
    # The referral whose patient this one carries on without replacing it (the transfer to a
    # thrombectomy centre a teleconsult advised): it shares that referral's clock.
    continues: str | None = None
    # Clinical times the referring hospital reports with the request (e.g. its door-in).
    reported_times: tuple[ReportedTime, ...] = ()
    # The bedside findings (FAST, blood pressure, glucose, anticoagulant, CT).
    assessment: StrokeAssessment = field(default_factory=StrokeAssessment)
    # Who sent it from the web app, as they were named when they did ("Display name
    # (username)"); None for a hospital system's message.
    requested_by: str | None = None
    # The teleconsult asked before any referral whose advice to transfer made this referral.
    from_consult: str | None = None

    def __post_init__(self) -> None:
        if self.requester_org == self.owner_org:
            raise InvalidReferral(
                "A hospital cannot refer a patient to itself", expression="Task.owner"
            )
        if self.nihss is not None and not 0 <= self.nihss <= MAX_NIHSS:
            raise InvalidReferral(
                "NIHSS must be between 0 and %(highest)s",
                expression="Observation.value",
                params={"highest": MAX_NIHSS},
            )
        if self.last_known_well is not None:
            if self.last_known_well.tzinfo is None:
                raise InvalidReferral(
                    "Last known well needs a time zone", expression="Observation.effective"
                )
            if self.last_known_well > self.requested_at:
                raise InvalidReferral(
                    "Last known well cannot be after the request",
                    expression="Observation.effective",
                )
        if not self.prealert and not self.patient_hn.strip():
            raise InvalidReferral("The patient's hospital number is required")


@dataclass(frozen=True, kw_only=True)
class ReferralChange:
    """A hospital reports a step of a referral (the Task it sends carries the new state)."""

    referral_id: str
    event: EventCode
    sender_org: str
    message_id: str
    task_status: TaskStatus | None
    status_reason: str | None
    occurred_at: datetime
    reported_times: tuple[ReportedTime, ...] = ()
    # referral-redirected: the hospital the sender redirects the patient to.
    redirect_to: str | None = None
    # referral-completed: the outcome the receiving hospital returns (Task.output), which
    # closes the loop for the referring hospital.
    outcome: str | None = None
    # A person who recorded it in the web app, as named when they did (None: a hospital
    # system), and why they changed a time already recorded (None: a first record).
    recorded_by: str | None = None
    correction_reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class RecordStep:
    """Another service reports a step of a referral (a teleconsult asked for, a notification
    delivered): it goes on the referral's timeline, the referral itself unchanged."""

    referral_id: str
    event: EventCode
    source: str
    message_id: str
    occurred_at: datetime
    detail: dict[str, object]
