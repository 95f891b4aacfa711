"""Which milestone of the patient's clock a reported time or a lifecycle step is: the one rule,
for a new referral and for every later change. A door-in or door-out is named by where it
happened (the resource's hospital, else the sender's): at the first hospital or the receiving
one; leaving the receiving hospital is no stroke milestone. Pure rules."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from services.referral.domain.commands import (
    ClinicalTime,
    ReferralChange,
    ReportedTime,
    RequestReferral,
)
from services.referral.domain.model import Referral
from shared.fhir.codes import EventCode
from shared.vocabulary.milestones import MilestoneCode

M = MilestoneCode
# The milestones that lifecycle events themselves stamp, at the time of the event.
EVENT_MILESTONES: Mapping[EventCode, MilestoneCode] = {
    EventCode.REFERRAL_REQUESTED: M.REFERRAL_REQUESTED,
    EventCode.REFERRAL_ACCEPTED: M.REFERRAL_ACCEPTED,
    EventCode.TRANSFER_DEPARTED: M.DOOR_OUT_FIRST,
    EventCode.PATIENT_ARRIVED: M.DOOR_IN_RECEIVING,
    EventCode.REFERRAL_COMPLETED: M.LOOP_CLOSED,
}
# Reported times that are the same milestone wherever they happened.
_SAME_EVERYWHERE: Mapping[ClinicalTime | None, MilestoneCode] = {
    ClinicalTime.LAST_KNOWN_WELL: M.LAST_KNOWN_WELL,
    ClinicalTime.PHYSICIAN_SEEN: M.PHYSICIAN_SEEN,
    ClinicalTime.CT_STARTED: M.CT_STARTED,
    ClinicalTime.NEEDLE: M.NEEDLE,
    ClinicalTime.GROIN_PUNCTURE: M.GROIN_PUNCTURE,
}

Named = list[tuple[MilestoneCode, ReportedTime]]


def milestone_code(
    reported: ReportedTime, *, hospital: str, first_hospital: str
) -> MilestoneCode | None:
    """The milestone a reported time is, by where it happened."""
    at_first_hospital = hospital == first_hospital
    if reported.kind is ClinicalTime.DOOR_IN:
        return M.DOOR_IN_FIRST if at_first_hospital else M.DOOR_IN_RECEIVING
    if reported.kind is ClinicalTime.DOOR_OUT:
        return M.DOOR_OUT_FIRST if at_first_hospital else None
    return _SAME_EVERYWHERE.get(reported.kind)


def named_milestones(times: Iterable[ReportedTime], *, sender: str, first_hospital: str) -> Named:
    """Reported clinical times as milestones, each named by the hospital where it happened
    (the resource's, else the sender's)."""
    found: Named = []
    for reported in times:
        code = milestone_code(
            reported, hospital=reported.hospital or sender, first_hospital=first_hospital
        )
        if code is not None:
            found.append((code, reported))
    return found


def milestones_of_request(request: RequestReferral) -> Named:
    """What a new referral puts on the patient's clock: the request, LKW (how sure it is) and
    the clinical times the referring hospital, the first hospital, sent with it."""
    found: Named = [
        (M.REFERRAL_REQUESTED, ReportedTime(kind=None, occurred_at=request.requested_at))
    ]
    if request.last_known_well is not None:
        lkw = ReportedTime(
            kind=ClinicalTime.LAST_KNOWN_WELL,
            occurred_at=request.last_known_well,
            source=request.lkw_source,
            uncertain=request.lkw_uncertain,
        )
        found.append((M.LAST_KNOWN_WELL, lkw))
    found.extend(
        named_milestones(
            request.reported_times,
            sender=request.requester_org,
            first_hospital=request.requester_org,
        )
    )
    return found


def milestones_of(referral: Referral, change: ReferralChange) -> Named:
    """The milestones a change records: its own (accepted, departed, ...) and the clinical times
    it reports, named by where they happened (the resource's hospital, else the sender's)."""
    found: Named = []
    own = EVENT_MILESTONES.get(change.event)
    if own is not None:
        found.append((own, ReportedTime(kind=None, occurred_at=change.occurred_at)))
    found.extend(
        named_milestones(
            change.reported_times, sender=change.sender_org, first_hospital=referral.requester_org
        )
    )
    return found
