"""SQL for the clinicians' lists (schema ``referral``): the hub's board and the spoke's active
referrals, each scoped to the person's hospital in the query itself, and the board's
acknowledgements."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from services.referral.domain.board import Acknowledgement, ListedReferral
from shared.db.pool import Connection
from shared.workflow.task_state import TERMINAL, TaskStatus, status_codes

# A spoke still sees a referral that ended (declined with nowhere else to go, completed) for a
# while, so an answer does not vanish the moment it arrives.
RECENTLY_CLOSED = timedelta(hours=12)

_LISTED = """
    SELECT referral.id, referral.status, referral.requester_org, referral.owner_org,
           referral.created_at, referral.last_known_well, referral.nihss,
           referral.suspected_lvo, referral.teleconsult_requested, referral.prealert,
           referral.accept_by,
           coalesce(requester.name, referral.requester_org) AS requester_name,
           coalesce(owner.name, referral.owner_org) AS owner_name,
           coalesce((
               SELECT jsonb_agg(jsonb_build_object(
                          'user_id', seen.user_id, 'display_name', seen.display_name,
                          'acknowledged_at', seen.acknowledged_at)
                      ORDER BY seen.acknowledged_at)
               FROM board_acknowledgement AS seen
               WHERE seen.referral_id = referral.id AND seen.hospital_id = referral.owner_org
           ), '[]'::jsonb) AS acknowledgements
    FROM referral
    LEFT JOIN organization AS requester ON requester.id = referral.requester_org
    LEFT JOIN organization AS owner ON owner.id = referral.owner_org
"""


async def board(connection: Connection, *, hospital_id: str) -> list[ListedReferral]:
    """The referrals coming to ``hospital_id`` that are not closed, newest first."""
    rows = await connection.fetch(
        _LISTED
        + """
        WHERE referral.owner_org = $1 AND NOT referral.status = ANY($2::text[])
        ORDER BY referral.created_at DESC, referral.id
        """,
        hospital_id,
        status_codes(TERMINAL),
    )
    return [_listed(row) for row in rows]


async def sent_referrals(
    connection: Connection, *, hospital_id: str, now: datetime
) -> list[ListedReferral]:
    """The referrals ``hospital_id`` sent that are still going, or closed within
    RECENTLY_CLOSED; a referral re-routed elsewhere shows as its replacement only."""
    rows = await connection.fetch(
        _LISTED
        + """
        WHERE referral.requester_org = $1 AND referral.replaced_by IS NULL
          AND (NOT referral.status = ANY($2::text[]) OR referral.updated_at > $3)
        ORDER BY referral.created_at DESC, referral.id
        """,
        hospital_id,
        status_codes(TERMINAL),
        now - RECENTLY_CLOSED,
    )
    return [_listed(row) for row in rows]


async def listed_referral(
    connection: Connection, *, referral_id: str, hospital_id: str
) -> ListedReferral | None:
    """One referral of the lists, if ``hospital_id`` sends or receives it (else None)."""
    row = await connection.fetchrow(
        _LISTED + " WHERE referral.id = $1 AND $2 IN (referral.requester_org, referral.owner_org)",
        referral_id,
        hospital_id,
    )
    return None if row is None else _listed(row)


async def add_acknowledgement(
    connection: Connection,
    *,
    referral_id: str,
    hospital_id: str,
    user_id: str,
    display_name: str,
    at: datetime,
) -> bool:
    """Records that this person saw the referral; False when they already had."""
    status: str = await connection.execute(
        """
        INSERT INTO board_acknowledgement (referral_id, hospital_id, user_id, display_name,
                                           acknowledged_at)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (referral_id, user_id) DO NOTHING
        """,
        referral_id,
        hospital_id,
        user_id,
        display_name,
        at,
    )
    return status.endswith(" 1")


async def acknowledgement_count(connection: Connection, *, referral_id: str) -> int:
    """How many people of the receiving hospital have acknowledged the referral."""
    count: int = await connection.fetchval(
        """
        SELECT count(*) FROM board_acknowledgement AS seen
        JOIN referral ON referral.id = seen.referral_id
        WHERE seen.referral_id = $1 AND seen.hospital_id = referral.owner_org
        """,
        referral_id,
    )
    return count


def _listed(row: asyncpg.Record) -> ListedReferral:
    return ListedReferral(
        id=row["id"],
        status=TaskStatus(row["status"]),
        requester_org=row["requester_org"],
        requester_name=row["requester_name"],
        owner_org=row["owner_org"],
        owner_name=row["owner_name"],
        created_at=row["created_at"],
        last_known_well=row["last_known_well"],
        nihss=row["nihss"],
        suspected_lvo=row["suspected_lvo"],
        teleconsult_requested=row["teleconsult_requested"],
        prealert=row["prealert"],
        accept_by=row["accept_by"],
        acknowledgements=tuple(
            Acknowledgement(
                user_id=seen["user_id"],
                display_name=seen["display_name"],
                acknowledged_at=datetime.fromisoformat(seen["acknowledged_at"]),
            )
            for seen in row["acknowledgements"]
        ),
    )
