"""A person records a milestone on the referral page: a tap records it now; a time already
recorded is changed only with a reason. Both go through the same use case as a hospital
system's clinical-update (handlers.change_referral): the state rules, the patient's clock, the
timeline (which keeps every report, who made it and why, so nothing is overwritten) and the
event for the network."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from services.referral.adapters import clock_repository, referral_pages
from services.referral.domain.commands import ClinicalTime, ReferralChange, ReportedTime
from services.referral.domain.errors import InvalidReferral, ReferralNotFound
from services.referral.domain.milestone_naming import milestone_code
from services.referral.domain.model import Referral
from services.referral.service.context import ReferralContext
from services.referral.service.handlers import change_referral
from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.vocabulary.milestones import MilestoneCode

# The milestones the page's buttons record, in the order a patient meets them.
TAPPABLE = (
    ClinicalTime.DOOR_IN,
    ClinicalTime.CT_STARTED,
    ClinicalTime.NEEDLE,
    ClinicalTime.GROIN_PUNCTURE,
    ClinicalTime.DOOR_OUT,
)
# A person's phone may run a little ahead of ours; further ahead is a typing error.
FUTURE_ALLOWANCE = timedelta(minutes=5)
MAX_REASON = 200


def milestone_at(referral: Referral, kind: ClinicalTime, *, hospital: str) -> MilestoneCode | None:
    """The milestone a button records for a person of ``hospital`` (a door-in at the referring
    hospital is the first door-in, at the other the receiving one; leaving the receiving
    hospital is no stroke milestone)."""
    return milestone_code(
        ReportedTime(kind=kind, occurred_at=referral.created_at),
        hospital=hospital,
        first_hospital=referral.requester_org,
    )


async def record_by_person(
    connection: Connection,
    *,
    referral_id: str,
    kind: ClinicalTime,
    hospital: str,
    person: str,
    now: datetime,
    occurred_at: datetime | None = None,
    reason: str | None = None,
    context: ReferralContext,
) -> MilestoneCode:
    """Records ``kind`` at ``hospital`` at ``occurred_at`` (None: now). Raises ReferralNotFound
    when the hospital is not a party, InvalidReferral when the time cannot be right or a change
    has no reason."""
    if kind not in TAPPABLE:
        raise InvalidReferral(
            "%(milestone)s is not recorded from the referral page", params={"milestone": kind}
        )
    referral = await referral_pages.referral_for_hospital(
        connection, referral_id=referral_id, hospital_id=hospital
    )
    if referral is None:
        raise ReferralNotFound(referral_id)
    code = milestone_at(referral, kind, hospital=hospital)
    if code is None:
        raise InvalidReferral("Leaving the receiving hospital is not a stroke milestone")
    at = occurred_at or now
    if at.tzinfo is None:
        raise InvalidReferral("The time needs a time zone")
    if at > now + FUTURE_ALLOWANCE:
        raise InvalidReferral("The time is in the future")
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > MAX_REASON:
        raise InvalidReferral(
            "The reason is longer than %(limit)s characters", params={"limit": MAX_REASON}
        )
    recorded = any(
        m.code is code and m.hospital == hospital
        for m in await clock_repository.milestones(connection, referral_id=referral_id)
    )
    if recorded and reason is None:
        raise InvalidReferral("This time is already recorded: changing it needs a reason")
    await change_referral(
        connection,
        change=ReferralChange(
            referral_id=referral_id,
            event=EventCode.CLINICAL_UPDATE,
            sender_org=hospital,
            message_id=str(uuid.uuid4()),
            task_status=None,
            status_reason=None,
            occurred_at=now,
            reported_times=(ReportedTime(kind=kind, occurred_at=at, hospital=hospital),),
            recorded_by=person,
            correction_reason=reason if recorded else None,
        ),
        context=context,
    )
    return code
