"""SQL for consults asked before any referral (schema ``referral``): what telemedicine
announced of each, the referral its recommendation to transfer made, and its steps kept until
then."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.referral.domain.commands import RecordStep
from shared.db.pool import Connection

# The request carries the patient's hospital number and the question: erased after the
# retention period, as the referral's own hospital number is.
PURGE_CONSULT_REQUESTS = """
    UPDATE consult_first SET request = '{}'::jsonb
     WHERE request <> '{}'::jsonb AND received_at < $1
"""


@dataclass(frozen=True)
class ConsultFirst:
    consult_id: str
    requester_org: str
    consultant_org: str
    request: dict[str, Any]
    referral_id: str | None
    outcome: str | None


async def keep_request(
    connection: Connection,
    *,
    consult_id: str,
    requester_org: str,
    consultant_org: str,
    request: dict[str, Any],
) -> None:
    await connection.execute(
        """
        INSERT INTO consult_first (consult_id, requester_org, consultant_org, request)
        VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING
        """,
        consult_id,
        requester_org,
        consultant_org,
        request,
    )


async def get_for_update(connection: Connection, *, consult_id: str) -> ConsultFirst | None:
    """The consult, its row locked: its steps and its referral are decided one at a time."""
    row = await connection.fetchrow(
        "SELECT * FROM consult_first WHERE consult_id = $1 FOR UPDATE", consult_id
    )
    if row is None:
        return None
    return ConsultFirst(
        consult_id=row["consult_id"],
        requester_org=row["requester_org"],
        consultant_org=row["consultant_org"],
        request=row["request"],
        referral_id=row["referral_id"],
        outcome=row["outcome"],
    )


async def consult_of_referral(connection: Connection, *, referral_id: str) -> str | None:
    """The consult asked first a referral was made from, if it was."""
    consult_id: str | None = await connection.fetchval(
        "SELECT consult_id FROM consult_first WHERE referral_id = $1", referral_id
    )
    return consult_id


async def keep_step(connection: Connection, *, consult_id: str, step: RecordStep) -> None:
    await connection.execute(
        """
        INSERT INTO consult_first_step (consult_id, event_code, occurred_at, source, message_id,
                                        detail)
        VALUES ($1, $2, $3, $4, $5, $6)
        """,
        consult_id,
        step.event.value,
        step.occurred_at,
        step.source,
        step.message_id,
        step.detail,
    )


async def link(connection: Connection, *, consult_id: str, referral_id: str) -> None:
    """The consult's referral made: its kept steps move onto the referral's timeline."""
    await connection.execute(
        """
        WITH moved AS (
            DELETE FROM consult_first_step WHERE consult_id = $1
            RETURNING id, event_code, occurred_at, source, message_id, detail
        )
        INSERT INTO timeline_entry (referral_id, event_code, occurred_at, source, message_id,
                                    detail)
        SELECT $2, event_code, occurred_at, source, message_id, detail FROM moved ORDER BY id
        """,
        consult_id,
        referral_id,
    )
    await connection.execute(
        "UPDATE consult_first SET referral_id = $2, outcome = NULL WHERE consult_id = $1",
        consult_id,
        referral_id,
    )


async def set_outcome(connection: Connection, *, consult_id: str, outcome: str) -> None:
    await connection.execute(
        "UPDATE consult_first SET outcome = $2 WHERE consult_id = $1", consult_id, outcome
    )
