"""What each lifecycle event does to a referral, and who may send it. Pure rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum, StrEnum

from services.referral.domain.model import InvalidReferral, NotAParty, Referral
from shared.fhir.codes import EventCode
from shared.workflow.task_state import TaskStatus, transition


class Party(Enum):
    REQUESTER = "the referring hospital"
    OWNER = "the receiving hospital"
    EITHER = "either hospital"


@dataclass(frozen=True)
class EventRule:
    # None: the event records a step without changing Task.status.
    status: TaskStatus | None
    sender: Party
    business_status: str | None = None


RULES: dict[EventCode, EventRule] = {
    EventCode.REFERRAL_RECEIVED: EventRule(TaskStatus.RECEIVED, Party.OWNER),
    EventCode.REFERRAL_ACCEPTED: EventRule(TaskStatus.ACCEPTED, Party.OWNER),
    EventCode.REFERRAL_DECLINED: EventRule(TaskStatus.REJECTED, Party.OWNER),
    # The receiving hospital cannot take the patient but names who should: the old referral is
    # rejected and a new one, to that hospital, replaces it.
    EventCode.REFERRAL_REDIRECTED: EventRule(TaskStatus.REJECTED, Party.OWNER),
    EventCode.REFERRAL_CANCELLED: EventRule(TaskStatus.CANCELLED, Party.REQUESTER),
    EventCode.TRANSFER_DEPARTED: EventRule(TaskStatus.IN_PROGRESS, Party.REQUESTER, "in-transit"),
    EventCode.PATIENT_ARRIVED: EventRule(None, Party.OWNER, "arrived"),
    EventCode.CLINICAL_UPDATE: EventRule(None, Party.EITHER),
    EventCode.REFERRAL_COMPLETED: EventRule(TaskStatus.COMPLETED, Party.OWNER, "loop-closed"),
}


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


def apply(referral: Referral, change: ReferralChange) -> TaskStatus:
    """The referral's status after ``change``; raises when the sender or the step is wrong."""
    rule = RULES.get(change.event)
    if rule is None:
        raise InvalidReferral(f"Event {change.event.value!r} does not change a referral")
    allowed = {
        Party.REQUESTER: {referral.requester_org},
        Party.OWNER: {referral.owner_org},
        Party.EITHER: {referral.requester_org, referral.owner_org},
    }[rule.sender]
    if change.sender_org not in allowed:
        raise NotAParty(
            f"Only {rule.sender.value} may send {change.event.value!r} for this referral"
        )
    if rule.status is None:
        if referral.status is not TaskStatus.IN_PROGRESS and rule.business_status:
            raise InvalidReferral(
                f"{change.event.value!r} needs the transfer in progress; the referral is "
                f"{referral.status.value!r}"
            )
        return referral.status
    if change.event is EventCode.REFERRAL_REDIRECTED and (
        not change.redirect_to or change.redirect_to in (referral.owner_org, referral.requester_org)
    ):
        raise InvalidReferral(
            "referral-redirected needs a second Task whose owner is the new hospital",
            expression="MessageHeader.focus",
        )
    if change.task_status is not None and change.task_status is not rule.status:
        raise InvalidReferral(
            f"{change.event.value!r} needs Task.status {rule.status.value!r}, "
            f"got {change.task_status.value!r}",
            expression="Task.status",
        )
    return transition(referral.status, rule.status, status_reason=change.status_reason)
