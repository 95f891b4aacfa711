"""SQL of operator access (schema ``notifier``): the hospitals of each referral as the
notifier knows them, and the audit of replays."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from shared.db.pool import Connection


async def record_referral_hospitals(
    connection: Connection, *, referral_id: str, hospitals: Iterable[str]
) -> None:
    """Remembers that these hospitals take part in the referral (idempotent)."""
    await connection.execute(
        """
        INSERT INTO referral_hospital (referral_id, hospital)
        SELECT $1, hospital FROM unnest($2::text[]) AS hospital
        ON CONFLICT DO NOTHING
        """,
        referral_id,
        sorted(set(hospitals)),
    )


async def referral_known(connection: Connection, *, referral_id: str) -> bool:
    """Whether any notification about the referral was asked for."""
    known: bool = await connection.fetchval(
        "SELECT EXISTS (SELECT 1 FROM referral_hospital WHERE referral_id = $1)", referral_id
    )
    return known


async def record_replay(
    connection: Connection, *, delivery_id: str, referral_id: str, by: str, at: datetime
) -> None:
    await connection.execute(
        """
        INSERT INTO replay_audit (delivery_id, referral_id, replayed_by, replayed_at)
        VALUES ($1, $2, $3, $4)
        """,
        delivery_id,
        referral_id,
        by,
        at,
    )
