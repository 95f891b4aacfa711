"""SQL for referrals, their timeline and the hospital directory (asyncpg, schema ``referral``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from services.referral.domain.model import (
    Referral,
    RequestReferral,
    TimelineEntry,
)
from services.referral.domain.task_state import TaskStatus
from shared.db.pool import Connection


async def insert_referral(connection: Connection, *, request: RequestReferral) -> bool:
    """Stores a new referral; False when this referral id already exists."""
    status: str = await connection.execute(
        """
        INSERT INTO referral (id, status, requester_org, owner_org, patient_hn, last_known_well,
                              nihss, suspected_lvo, teleconsult_requested, request_message_id,
                              created_at, prealert)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        ON CONFLICT DO NOTHING
        """,
        request.referral_id,
        TaskStatus.REQUESTED.value,
        request.requester_org,
        request.owner_org,
        request.patient_hn,
        request.last_known_well,
        request.nihss,
        request.suspected_lvo,
        request.teleconsult_requested,
        request.request_message_id,
        request.requested_at,
        request.prealert,
    )
    return status.endswith(" 1")


async def complete_prealert(connection: Connection, *, request: RequestReferral) -> None:
    """The full referral arrives for a pre-alerted patient: keep the id, fill in the facts."""
    await connection.execute(
        """
        UPDATE referral SET patient_hn = $2, last_known_well = coalesce($3, last_known_well),
            nihss = coalesce($4, nihss), suspected_lvo = coalesce($5, suspected_lvo),
            teleconsult_requested = $6, request_message_id = $7, prealert = false,
            updated_at = now()
        WHERE id = $1 AND prealert
        """,
        request.referral_id,
        request.patient_hn,
        request.last_known_well,
        request.nihss,
        request.suspected_lvo,
        request.teleconsult_requested,
        request.request_message_id,
    )


async def get_referral(
    connection: Connection, *, referral_id: str, for_update: bool = False
) -> Referral | None:
    """``for_update`` locks the row: concurrent changes to one referral apply one at a time."""
    row = await connection.fetchrow(
        f"SELECT * FROM referral WHERE id = $1{' FOR UPDATE' if for_update else ''}", referral_id
    )
    if row is None:
        return None
    return Referral(
        id=row["id"],
        status=TaskStatus(row["status"]),
        requester_org=row["requester_org"],
        owner_org=row["owner_org"],
        patient_hn=row["patient_hn"],
        last_known_well=row["last_known_well"],
        nihss=row["nihss"],
        suspected_lvo=row["suspected_lvo"],
        teleconsult_requested=row["teleconsult_requested"],
        created_at=row["created_at"],
        prealert=row["prealert"],
    )


async def update_status(connection: Connection, *, referral_id: str, status: TaskStatus) -> None:
    await connection.execute(
        "UPDATE referral SET status = $2, updated_at = now() WHERE id = $1",
        referral_id,
        status.value,
    )


async def referral_id_for_request(connection: Connection, *, request_message_id: str) -> str | None:
    value: str | None = await connection.fetchval(
        "SELECT id FROM referral WHERE request_message_id = $1", request_message_id
    )
    return value


async def add_timeline_entry(
    connection: Connection,
    *,
    referral_id: str,
    event_code: str,
    occurred_at: datetime,
    source: str,
    message_id: str | None,
    detail: dict[str, Any],
) -> None:
    await connection.execute(
        """
        INSERT INTO timeline_entry (referral_id, event_code, occurred_at, source, message_id,
                                    detail)
        VALUES ($1, $2, $3, $4, $5, $6)
        """,
        referral_id,
        event_code,
        occurred_at,
        source,
        message_id,
        detail,
    )


async def timeline(connection: Connection, *, referral_id: str) -> list[TimelineEntry]:
    rows = await connection.fetch(
        """
        SELECT event_code, occurred_at, recorded_at, source, detail FROM timeline_entry
        WHERE referral_id = $1 ORDER BY occurred_at, id
        """,
        referral_id,
    )
    return [
        TimelineEntry(
            event_code=row["event_code"],
            occurred_at=row["occurred_at"],
            recorded_at=row["recorded_at"],
            source=row["source"],
            detail=row["detail"],
        )
        for row in rows
    ]


async def organization_name(connection: Connection, *, organization_id: str) -> str | None:
    value: str | None = await connection.fetchval(
        "SELECT name FROM organization WHERE id = $1", organization_id
    )
    return value


async def upsert_organization(
    connection: Connection,
    *,
    organization_id: str,
    name: str,
    name_th: str | None,
    capabilities: list[str],
    latitude: float | None,
    longitude: float | None,
    resource: dict[str, Any],
) -> None:
    await connection.execute(
        """
        INSERT INTO organization (id, name, name_th, capabilities, latitude, longitude, resource)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_th = excluded.name_th,
            capabilities = excluded.capabilities, latitude = excluded.latitude,
            longitude = excluded.longitude, resource = excluded.resource, updated_at = now()
        """,
        organization_id,
        name,
        name_th,
        capabilities,
        latitude,
        longitude,
        resource,
    )


async def list_organizations(connection: Connection) -> list[dict[str, Any]]:
    rows = await connection.fetch(
        "SELECT id, name, name_th, capabilities, latitude, longitude FROM organization ORDER BY id"
    )
    return [dict(row) for row in rows]


async def set_unavailable(
    connection: Connection, *, organization_id: str, unavailable: list[str]
) -> bool:
    """Records which capabilities are out of service right now; False for an unknown hospital."""
    status: str = await connection.execute(
        "UPDATE organization SET unavailable = $2, updated_at = now() WHERE id = $1",
        organization_id,
        sorted(set(unavailable)),
    )
    return status.endswith(" 1")


async def directory_rows(connection: Connection) -> list[asyncpg.Record]:
    """Every hospital with its capabilities, live availability and coordinates (for routing)."""
    rows: list[asyncpg.Record] = await connection.fetch(
        "SELECT id, name, capabilities, unavailable, latitude, longitude FROM organization"
    )
    return rows


async def record_milestone(
    connection: Connection,
    *,
    referral_id: str,
    code: str,
    occurred_at: datetime,
    source: str,
    uncertain: bool,
    reported_by: str,
) -> None:
    await connection.execute(
        """
        INSERT INTO milestone (referral_id, code, occurred_at, source, uncertain, reported_by)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (referral_id, code) DO UPDATE SET occurred_at = excluded.occurred_at,
            source = excluded.source, uncertain = excluded.uncertain,
            reported_by = excluded.reported_by, recorded_at = now()
        """,
        referral_id,
        code,
        occurred_at,
        source,
        uncertain,
        reported_by,
    )


async def milestone_rows(connection: Connection, *, referral_id: str) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await connection.fetch(
        "SELECT * FROM milestone WHERE referral_id = $1 ORDER BY occurred_at", referral_id
    )
    return rows
