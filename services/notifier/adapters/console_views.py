"""Reads of the notifier for the operators' console (schema ``notifier``): the audit of
replays, searched by referral, hospital, who and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.db.pool import Connection

MAX_ROWS = 200


@dataclass(frozen=True)
class ReplayRecord:
    replayed_at: datetime
    replayed_by: str
    delivery_id: str
    referral_id: str


async def replays(
    connection: Connection,
    *,
    referral_id: str | None = None,
    hospital: str | None = None,
    by: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[ReplayRecord]:
    rows = await connection.fetch(
        """
        SELECT replayed_at, replayed_by, delivery_id, referral_id FROM replay_audit AS a
        WHERE ($1::text IS NULL OR a.referral_id = $1)
          AND ($2::text IS NULL OR EXISTS (
                SELECT 1 FROM referral_hospital AS party
                WHERE party.referral_id = a.referral_id AND party.hospital = $2))
          AND ($3::text IS NULL OR a.replayed_by = $3)
          AND ($4::timestamptz IS NULL OR a.replayed_at >= $4)
          AND ($5::timestamptz IS NULL OR a.replayed_at < $5)
        ORDER BY a.replayed_at DESC, a.id DESC
        LIMIT $6
        """,
        referral_id,
        hospital,
        by,
        since,
        until,
        MAX_ROWS,
    )
    return [
        ReplayRecord(row["replayed_at"], row["replayed_by"], row["delivery_id"], row["referral_id"])
        for row in rows
    ]
