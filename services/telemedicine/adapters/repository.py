"""SQL for teleconsults (schema ``telemedicine``)."""

from __future__ import annotations

import asyncpg

from services.telemedicine.domain.model import Consult
from shared.db.pool import Connection
from shared.workflow.task_state import TaskStatus


async def insert_consult(connection: Connection, *, consult: Consult) -> bool:
    status: str = await connection.execute(
        """
        INSERT INTO consult (id, referral_id, status, requester_org, consultant_org)
        VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING
        """,
        consult.id,
        consult.referral_id,
        consult.status.value,
        consult.requester_org,
        consult.consultant_org,
    )
    return status.endswith(" 1")


async def consults_for_referral(connection: Connection, *, referral_id: str) -> list[Consult]:
    rows = await connection.fetch("SELECT * FROM consult WHERE referral_id = $1", referral_id)
    return [_consult(row) for row in rows]


async def get_consult(connection: Connection, *, consult_id: str) -> Consult | None:
    row = await connection.fetchrow("SELECT * FROM consult WHERE id = $1", consult_id)
    return _consult(row) if row is not None else None


def _consult(row: asyncpg.Record) -> Consult:
    return Consult(
        id=row["id"],
        referral_id=row["referral_id"],
        status=TaskStatus(row["status"]),
        requester_org=row["requester_org"],
        consultant_org=row["consultant_org"],
    )
