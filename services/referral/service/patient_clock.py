"""A patient's clock: the milestones every referral of the patient shares, read and recorded."""

from __future__ import annotations

from collections.abc import Iterable

from services.referral.adapters import clock_repository
from services.referral.domain.clock import Milestone, TimeSource
from services.referral.domain.commands import ReportedTime
from shared.db.pool import Connection
from shared.vocabulary.milestones import MilestoneCode

_MILESTONE_CODES = {code.value for code in MilestoneCode}
_TIME_SOURCES = {source.value for source in TimeSource}


async def patient_milestones(connection: Connection, *, referral_id: str) -> list[Milestone]:
    """Every milestone of the patient the referral is about, from all its referrals."""
    return [
        Milestone(
            code=MilestoneCode(row["code"]),
            occurred_at=row["occurred_at"],
            recorded_at=row["recorded_at"],
            source=TimeSource(row["source"] if row["source"] in _TIME_SOURCES else "recorded"),
            uncertain=row["uncertain"],
            hospital=row["hospital"],
        )
        for row in await clock_repository.milestone_rows(connection, referral_id=referral_id)
        if row["code"] in _MILESTONE_CODES
    ]


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
