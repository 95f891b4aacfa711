"""A patient's clock: the milestones every referral of the patient shares, read and recorded."""

from __future__ import annotations

from collections.abc import Iterable

from services.referral.adapters import clock_repository
from services.referral.domain.clock import Milestone
from services.referral.domain.commands import ReportedTime
from services.referral.domain.model import Referral
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
    """On the patient's clock; each at the hospital its resource names, else the sender's.
    All in one round trip."""
    await clock_repository.record_milestones(
        connection,
        referral_id=referral_id,
        reported_by=reported_by,
        milestones=[
            (code, reported.occurred_at, reported.source, reported.uncertain, reported.hospital)
            for code, reported in milestones
        ],
    )


async def clock_seen_by(
    connection: Connection, *, referral: Referral, viewer: str | None
) -> tuple[list[Milestone], list[Referral]]:
    """The patient's milestones and referrals as ``viewer`` (a hospital; None: an operator) may
    see them: a hospital that declined sees the clock as it was when it let go, not the care
    that followed elsewhere (PDPA: the minimum)."""
    milestones = await patient_milestones(connection, referral_id=referral.id)
    chain = await clock_repository.patient_referrals(connection, referral_id=referral.id)
    if viewer == referral.owner_org and referral.replaced_by is not None:
        let_go = next(r.created_at for r in chain if r.id == referral.replaced_by)
        milestones = [m for m in milestones if m.recorded_at <= let_go]
        chain = [r for r in chain if r.created_at < let_go]
    return milestones, chain
