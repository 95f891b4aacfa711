"""A patient's clock: the milestones every referral of the patient shares, read and recorded."""

from __future__ import annotations

from collections.abc import Iterable

from services.referral.adapters import clock_repository
from services.referral.domain.clock import Milestone
from services.referral.domain.commands import ReportedTime
from shared.db.pool import Connection
from shared.vocabulary.milestones import MilestoneCode


async def patient_milestones(connection: Connection, *, referral_id: str) -> list[Milestone]:
    """Every milestone of the patient the referral is about, from all its referrals."""
    return await clock_repository.milestones(connection, referral_id=referral_id)


async def record_milestones(
    connection: Connection,
    *,
    referral_id: str,
    reported_by: str,
    milestones: Iterable[tuple[MilestoneCode, ReportedTime]],
) -> None:
    """On the patient's clock; each at the hospital its resource names, else the sender's."""
    for code, reported in milestones:
        await clock_repository.record_milestone(
            connection,
            referral_id=referral_id,
            code=code,
            occurred_at=reported.occurred_at,
            source=reported.source,
            uncertain=reported.uncertain,
            reported_by=reported_by,
            hospital=reported.hospital or reported_by,
        )
