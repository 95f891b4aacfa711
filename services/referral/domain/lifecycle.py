"""What each lifecycle event does to a referral, and who may send it. Pure rules."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from services.referral.domain.commands import ReferralChange
from services.referral.domain.errors import InvalidReferral, NotAParty
from services.referral.domain.model import Referral
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
