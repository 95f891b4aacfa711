"""SQL for referrals, their timeline and the hospital directory (asyncpg, schema ``referral``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from services.referral.domain.commands import RequestReferral
from services.referral.domain.model import Referral, TimelineEntry
from shared.db.pool import Connection
from shared.workflow.task_state import AWAITING_ANSWER, TaskStatus, status_codes


async def insert_referral(connection: Connection, *, request: RequestReferral) -> bool:
    """Stores a new referral; False when this referral id already exists."""
    status: str = await connection.execute(
        """
        INSERT INTO referral (id, status, requester_org, owner_org, patient_hn, last_known_well,
                              nihss, suspected_lvo, teleconsult_requested, request_message_id,
                              created_at, prealert, accept_by, replaces, clock_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                -- a re-routed referral keeps its patient's clock
                coalesce((SELECT clock_id FROM referral WHERE id = $14), $1))
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
        request.accept_by,
        request.replaces,
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
        accept_by=row["accept_by"],
        replaces=row["replaces"],
        replaced_by=row["replaced_by"],
        routing=row["routing"],
    )


async def update_status(connection: Connection, *, referral_id: str, status: TaskStatus) -> None:
    await connection.execute(
        "UPDATE referral SET status = $2, updated_at = now() WHERE id = $1",
        referral_id,
        status.value,
    )


async def referral_id_for_request(
    connection: Connection, *, requester_org: str, request_message_id: str
) -> str | None:
    """The referral a hospital's request message made (message ids are the sender's own)."""
    value: str | None = await connection.fetchval(
        "SELECT id FROM referral WHERE requester_org = $1 AND request_message_id = $2",
        requester_org,
        request_message_id,
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


async def set_routing(connection: Connection, *, referral_id: str, routing: dict[str, Any]) -> None:
    await connection.execute("UPDATE referral SET routing = $2 WHERE id = $1", referral_id, routing)


async def link_replacement(connection: Connection, *, old_id: str, new_id: str) -> None:
    await connection.execute("UPDATE referral SET replaced_by = $2 WHERE id = $1", old_id, new_id)


async def owners_in_chain(connection: Connection, *, referral_id: str) -> list[str]:
    """The hospitals already asked for this patient: the referral and those it replaced."""
    rows = await connection.fetch(
        """
        WITH RECURSIVE chain AS (
            SELECT id, owner_org, replaces FROM referral WHERE id = $1
            UNION ALL
            SELECT r.id, r.owner_org, r.replaces FROM referral r JOIN chain c ON r.id = c.replaces
        )
        SELECT owner_org FROM chain
        """,
        referral_id,
    )
    return [row["owner_org"] for row in rows]


# $1: now, $2: the states awaiting an answer.
_AWAITING_ANSWER = "status = ANY($2::text[]) AND replaced_by IS NULL AND accept_by < $1"


async def overdue_referral_ids(connection: Connection, *, now: datetime) -> list[str]:
    """Referrals still waiting for an answer past their accept-by deadline, most overdue first."""
    rows = await connection.fetch(
        f"SELECT id FROM referral WHERE {_AWAITING_ANSWER} ORDER BY accept_by",
        now,
        status_codes(AWAITING_ANSWER),
    )
    return [row["id"] for row in rows]


async def lock_if_overdue(
    connection: Connection, *, referral_id: str, now: datetime
) -> Referral | None:
    """The referral, locked for this transaction, if it is still waiting past its deadline and
    no other transaction holds it."""
    row = await connection.fetchrow(
        f"SELECT id FROM referral WHERE {_AWAITING_ANSWER} AND id = $3 FOR UPDATE SKIP LOCKED",
        now,
        status_codes(AWAITING_ANSWER),
        referral_id,
    )
    if row is None:
        return None
    return await get_referral(connection, referral_id=row["id"])


# --- FHIR REST read and search (entrypoints/fhir_api.py) -------------------------------------

# When the referral's Task last changed: its row (status, with any reason), or a business status
# on its timeline (e.g. "arrived" changes the Task without changing the row).
_LAST_UPDATED = (
    "GREATEST(r.updated_at, (SELECT max(t.recorded_at) FROM timeline_entry t"
    " WHERE t.referral_id = r.id AND t.detail ? 'business_status'))"
)


def referral_from_row(row: asyncpg.Record) -> Referral:
    """A Referral from a row with the referral table's columns (and possibly more)."""
    from dataclasses import fields

    columns = set(row.keys())
    values: dict[str, Any] = {f.name: row[f.name] for f in fields(Referral) if f.name in columns}
    values["status"] = TaskStatus(row["status"])
    return Referral(**values)


async def search_referrals(
    connection: Connection,
    *,
    party: str | None,
    referral_ids: list[str] | None = None,
    statuses: list[str] | None = None,
    owners: list[str] | None = None,
    requesters: list[str] | None = None,
    last_updated: list[tuple[str, datetime, datetime]] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[int, list[asyncpg.Record]]:
    """Referrals for FHIR read and search, most recently updated first: (total, one page).

    ``party``: only the referrals this organization sent or received. A list filter matches any
    of its values (an empty list matches nothing). ``last_updated`` holds FHIR date comparisons
    that must all hold: (prefix eq|ne|gt|ge|lt|le, start, end) with [start, end) the range the
    searched value stands for at its precision. Rows have the referral's columns and
    ``fhir_last_updated``, ``fhir_status_reason`` (of the latest change that gave a reason) and
    ``fhir_business_status``.
    """
    conditions: list[str] = []
    args: list[object] = []

    def placeholder(value: object) -> str:
        args.append(value)
        return f"${len(args)}"

    if party is not None:
        party_arg = placeholder(party)
        conditions.append(f"(r.requester_org = {party_arg} OR r.owner_org = {party_arg})")
    for column, values in (
        ("r.id", referral_ids),
        ("r.status", statuses),
        ("r.owner_org", owners),
        ("r.requester_org", requesters),
    ):
        if values is not None:
            conditions.append(f"{column} = ANY({placeholder(list(values))}::text[])")
    for prefix, start, end in last_updated or []:
        conditions.append(_date_condition(_LAST_UPDATED, prefix, start, end, placeholder))
    where = " AND ".join(conditions) or "true"
    total: int = await connection.fetchval(f"SELECT count(*) FROM referral r WHERE {where}", *args)
    if total == 0 or limit == 0:
        return total, []
    rows: list[asyncpg.Record] = await connection.fetch(
        f"""
        SELECT r.*, {_LAST_UPDATED} AS fhir_last_updated,
            (SELECT t.detail ->> 'reason' FROM timeline_entry t
             WHERE t.referral_id = r.id AND t.detail ? 'reason'
             ORDER BY t.recorded_at DESC, t.id DESC LIMIT 1) AS fhir_status_reason,
            (SELECT t.detail ->> 'business_status' FROM timeline_entry t
             WHERE t.referral_id = r.id AND t.detail ? 'business_status'
             ORDER BY t.recorded_at DESC, t.id DESC LIMIT 1) AS fhir_business_status
        FROM referral r WHERE {where}
        ORDER BY fhir_last_updated DESC, r.id
        LIMIT ${len(args) + 1} OFFSET ${len(args) + 2}
        """,
        *args,
        limit,
        offset,
    )
    return total, rows


def _date_condition(
    column: str, prefix: str, start: datetime, end: datetime, placeholder: Any
) -> str:
    """SQL for a FHIR date search prefix on a point in time; placeholders only for what is used
    (PostgreSQL cannot type an unused parameter)."""
    if prefix == "eq":
        return f"({column} >= {placeholder(start)} AND {column} < {placeholder(end)})"
    if prefix == "ne":
        return f"NOT ({column} >= {placeholder(start)} AND {column} < {placeholder(end)})"
    if prefix == "gt":
        return f"{column} >= {placeholder(end)}"
    if prefix == "ge":
        return f"{column} >= {placeholder(start)}"
    if prefix == "lt":
        return f"{column} < {placeholder(start)}"
    if prefix == "le":
        return f"{column} < {placeholder(end)}"
    raise ValueError(f"Unsupported date prefix {prefix!r}")
