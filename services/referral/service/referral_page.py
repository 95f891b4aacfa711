"""What the referral page reads (one use case, reads only): the referral, if the reader's
hospital is one of its two, with its patient's clock, who recorded each milestone, and the
timeline (notifications, acknowledgements and consults included). An operator reads any
referral, without the patient's data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.referral.adapters import referral_pages, timeline_repository
from services.referral.domain.clock import Milestone
from services.referral.domain.errors import ReferralNotFound
from services.referral.domain.model import Referral, TimelineEntry
from services.referral.service.patient_clock import clock_seen_by
from shared.db.pool import Connection


@dataclass(frozen=True, kw_only=True)
class MilestoneReport:
    """One report of a milestone: a first record, or a correction with its reason."""

    code: str
    hospital: str | None
    occurred_at: datetime
    recorded_at: datetime
    who: str
    reason: str | None


@dataclass(frozen=True, kw_only=True)
class ReferralReading:
    referral: Referral
    # Every hospital's (English, Thai) name by id.
    hospitals: dict[str, tuple[str, str | None]]
    milestones: list[Milestone]
    reports: list[MilestoneReport]
    timeline: list[TimelineEntry]
    # False for an operator: the page leaves out the hospital number and bedside findings.
    patient_data: bool
    # The reader's hospital (None: an operator).
    reader_hospital: str | None


async def read_referral(
    connection: Connection,
    *,
    referral_id: str,
    reader_hospital: str | None,
    reader: str,
    operator: bool = False,
) -> ReferralReading:
    """Raises ReferralNotFound for a referral the reader's hospital is not a party to (as for
    one that does not exist: a third hospital learns nothing); records the read for audit."""
    referral = await referral_pages.referral_for_hospital(
        connection, referral_id=referral_id, hospital_id=None if operator else reader_hospital
    )
    if referral is None:
        raise ReferralNotFound(referral_id)
    await referral_pages.record_page_read(connection, agent=reader, referral_id=referral_id)
    viewer = None if operator else reader_hospital
    milestones, _ = await clock_seen_by(connection, referral=referral, viewer=viewer)
    shown = {(m.code.value, m.hospital) for m in milestones}
    reports = [
        MilestoneReport(
            code=str(found["milestone"]),
            hospital=found["hospital"],
            occurred_at=found["occurred_at"],
            recorded_at=found["recorded_at"],
            who=str(found["who"]),
            reason=found["reason"],
        )
        for found in await referral_pages.milestone_reports(connection, referral_id=referral_id)
        if (found["milestone"], found["hospital"]) in shown
    ]
    return ReferralReading(
        referral=referral,
        hospitals=await referral_pages.hospital_names(connection),
        milestones=milestones,
        reports=reports,
        timeline=await timeline_repository.timeline(connection, referral_id=referral_id),
        patient_data=not operator,
        reader_hospital=reader_hospital,
    )
