"""SQL of operator access (schema ``notifier``): the hospitals of each referral as the
notifier knows them, and the audit of replays."""

from __future__ import annotations

from datetime import datetime

from shared.db.pool import Connection

# A referral's hospitals are recorded with its deliveries (request_deliveries.insert_deliveries).


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
