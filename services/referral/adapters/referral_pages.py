"""SQL behind the clinicians' referral pages: a referral read only if the reader's hospital is
one of its two (the condition is in the query itself, so another hospital's referral is never
loaded), and who recorded each milestone (the web app's person, else the hospital system)."""

from __future__ import annotations

from typing import Any

from services.referral.adapters.repository import referral_from_row
from services.referral.domain.model import Referral
from shared.db.pool import Connection


async def referral_for_hospital(
    connection: Connection, *, referral_id: str, hospital_id: str | None
) -> Referral | None:
    """The referral if ``hospital_id`` sent or received it (None: any referral, for an
    operator); else None, as if it did not exist."""
    row = await connection.fetchrow(
        """
        SELECT * FROM referral
        WHERE id = $1 AND ($2::text IS NULL OR requester_org = $2 OR owner_org = $2)
        """,
        referral_id,
        hospital_id,
    )
    return None if row is None else referral_from_row(row)


async def hospital_names(connection: Connection) -> dict[str, tuple[str, str | None]]:
    """Every hospital's (English, Thai) name by id."""
    rows = await connection.fetch("SELECT id, name, name_th FROM organization")
    return {row["id"]: (row["name"], row["name_th"]) for row in rows}


async def milestone_reports(connection: Connection, *, referral_id: str) -> list[dict[str, Any]]:
    """Every report of a milestone on the patient's clock, oldest first, from the timelines of
    all the patient's referrals: its milestone, hospital, who (a person's name, else the
    sending hospital) and a correction's reason."""
    rows = await connection.fetch(
        """
        SELECT t.occurred_at, t.recorded_at, t.source, t.detail FROM timeline_entry t
        JOIN referral r ON r.id = t.referral_id
        WHERE r.clock_id = (SELECT clock_id FROM referral WHERE id = $1)
          AND t.detail ? 'milestone'
        ORDER BY t.recorded_at, t.id
        """,
        referral_id,
    )
    return [
        {
            "milestone": row["detail"].get("milestone"),
            "hospital": row["detail"].get("hospital"),
            "occurred_at": row["occurred_at"],
            "recorded_at": row["recorded_at"],
            "who": row["detail"].get("recorded_by") or row["source"],
            "reason": row["detail"].get("correction_reason"),
        }
        for row in rows
    ]


async def record_page_read(connection: Connection, *, agent: str, referral_id: str) -> None:
    """The audit trail of a person opening the referral page (agent: ``User/<username>``)."""
    await connection.execute(
        "INSERT INTO audit_event (agent, action, referral_id, via) VALUES ($1, 'R', $2, $3)",
        agent,
        referral_id,
        "GET /app/referrals/{referral_id}",
    )
