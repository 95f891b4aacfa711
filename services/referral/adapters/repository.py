"""SQL for referrals and the hospital directory (asyncpg, schema ``referral``). A referral's
timeline is in timeline_repository.py, its patient's clock in clock_repository.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

import asyncpg

from services.referral.adapters.timeline_repository import TIMELINE_COLUMNS, NewTimelineEntry
from services.referral.domain.commands import RequestReferral
from services.referral.domain.directory import DirectoryEntry
from services.referral.domain.model import Referral
from shared.db.pool import Connection
from shared.fhir.codes import PATIENT_IDENTIFIER_SYSTEM_URL
from shared.messaging.inbox import (
    INBOX_OUTCOME,
    Claim,
    InboxEntry,
    inbox_claimed,
    inbox_seen,
    outcome_of,
)
from shared.messaging.outbox import OutboxEvent, outbox_insert, outbox_parameters
from shared.workflow.task_state import AWAITING_ANSWER, TaskStatus, status_codes

# (code, time, source, uncertain, hospital): as clock_repository.record_milestones takes them.
NewMilestone = tuple[str, datetime, str, bool, str]


# The intake's events, written by its INSERT only when it stored the referral ($25 to $30).
_QUEUED_IF_STORED = outbox_insert(25, only_if="stored")


def _insert_referral(*, claimed: bool) -> str:
    """The intake's one statement; ``claimed``: with the hospital's message recorded in the
    inbox ($31 to $35), the referral stored only if the message was not seen, the message
    recorded only if the referral was stored."""
    seen = f"{inbox_seen(31)}," if claimed else ""
    unseen = "WHERE NOT EXISTS (SELECT FROM inbox_seen)" if claimed else ""
    claim = f", {inbox_claimed(31, only_if='stored')}" if claimed else ""
    # A row whatever happened, when the claim's outcome is asked for.
    answer = (
        f"SELECT stored.*, {INBOX_OUTCOME} FROM (VALUES (1)) AS one LEFT JOIN stored ON true"
        if claimed
        else "SELECT * FROM stored"
    )
    # Built from constant fragments, never from input.
    return f"""
        WITH {seen} stored AS (
            INSERT INTO referral (id, status, requester_org, owner_org, patient_hn,
                                  last_known_well, nihss, suspected_lvo, teleconsult_requested,
                                  request_message_id, created_at, prealert, accept_by, replaces,
                                  clock_id, assessment, requested_by, routing)
            SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                   -- a re-routed referral, or a transfer, keeps its patient's clock
                   coalesce((SELECT clock_id FROM referral WHERE id = coalesce($14, $17)), $1),
                   $15, $16, $18
            {unseen}
            ON CONFLICT DO NOTHING
            RETURNING *
        ){claim}, entry AS (
            INSERT INTO timeline_entry ({TIMELINE_COLUMNS})
            SELECT id, $19, $20, $21, $22, $23 FROM stored WHERE $19::text IS NOT NULL
        ), clock AS (
            INSERT INTO milestone (referral_id, code, occurred_at, source, uncertain,
                                   reported_by, hospital)
            SELECT stored.clock_id, m.code, m.occurred_at, m.source, m.uncertain, $3, m.hospital
            FROM stored, jsonb_to_recordset($24::jsonb) AS m (
                code text, occurred_at timestamptz, source text, uncertain boolean, hospital text
            )
            ON CONFLICT (referral_id, code, hospital) DO UPDATE SET
                occurred_at = excluded.occurred_at, source = excluded.source,
                uncertain = excluded.uncertain, reported_by = excluded.reported_by,
                recorded_at = now()
        ), queued AS ({_QUEUED_IF_STORED})
        {answer}
        """


_INSERT_REFERRAL = _insert_referral(claimed=False)
_INSERT_CLAIMED_REFERRAL = _insert_referral(claimed=True)


async def insert_referral(
    connection: Connection,
    *,
    request: RequestReferral,
    routing: dict[str, Any],
    first_entry: NewTimelineEntry | None = None,
    milestones: Sequence[NewMilestone] = (),
    events: Sequence[OutboxEvent] = (),
) -> Referral | None:
    """Stores a new referral with its routing advice and returns it as stored; None when this
    referral id, or the sender's request message, is stored already (then nothing is written).
    ``first_entry``, ``milestones`` (on the new referral's clock, which is its own or the one
    it keeps) and ``events`` (queued in the outbox, in their order) are written by the same
    statement: one round trip for the four tables."""
    row = await connection.fetchrow(
        _INSERT_REFERRAL,
        *_referral_parameters(request, routing, first_entry, milestones, events),
    )
    return None if row is None else referral_from_row(row)


async def insert_claimed_referral(
    connection: Connection,
    *,
    request: RequestReferral,
    routing: dict[str, Any],
    first_entry: NewTimelineEntry | None,
    milestones: Sequence[NewMilestone],
    events: Sequence[OutboxEvent],
    inbox: InboxEntry,
) -> tuple[Claim | None, Referral | None]:
    """``insert_referral`` with the hospital's message recorded in the inbox by the same
    statement, its one round trip (no transaction): what the claim found (``outcome_of``) and
    the referral as stored. (None, None): nothing written, the claim neither, as the referral
    id or the request is stored already."""
    row = await connection.fetchrow(
        _INSERT_CLAIMED_REFERRAL,
        *_referral_parameters(request, routing, first_entry, milestones, events),
        *inbox.parameters,
    )
    if row is None:
        raise RuntimeError("the intake's INSERT returned no row")
    claim = outcome_of(row, inbox)
    return claim, referral_from_row(row) if claim is Claim.FIRST else None


def _referral_parameters(
    request: RequestReferral,
    routing: dict[str, Any],
    first_entry: NewTimelineEntry | None,
    milestones: Sequence[NewMilestone],
    events: Sequence[OutboxEvent],
) -> tuple[Any, ...]:
    # A milestone reported twice in one message: the last wins, as in record_milestones (one
    # INSERT cannot touch a row twice).
    latest = {
        (code, hospital): (code, at, source, uncertain, hospital)
        for code, at, source, uncertain, hospital in milestones
    }
    return (
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
        request.assessment.as_json() or None,
        request.requested_by,
        request.continues,
        routing,
        first_entry.event_code if first_entry else None,
        first_entry.occurred_at if first_entry else None,
        first_entry.source if first_entry else None,
        first_entry.message_id if first_entry else None,
        first_entry.detail if first_entry else None,
        [
            {
                "code": code,
                "occurred_at": occurred_at.isoformat(),
                "source": source,
                "uncertain": uncertain,
                "hospital": hospital,
            }
            for code, occurred_at, source, uncertain, hospital in latest.values()
        ],
        *outbox_parameters(events),
    )


async def complete_prealert(
    connection: Connection, *, request: RequestReferral, routing: dict[str, Any]
) -> Referral:
    """The full referral arrives for a pre-alerted patient: keep the id, fill in the facts
    (the caller holds the row's lock and checked it is the pre-alert); returns it as stored."""
    row = await connection.fetchrow(
        """
        UPDATE referral SET patient_hn = $2, last_known_well = coalesce($3, last_known_well),
            nihss = coalesce($4, nihss), suspected_lvo = coalesce($5, suspected_lvo),
            teleconsult_requested = $6, request_message_id = $7, prealert = false,
            assessment = coalesce($8, assessment), requested_by = coalesce($9, requested_by),
            routing = $10, updated_at = now()
        WHERE id = $1 AND prealert
        RETURNING *
        """,
        request.referral_id,
        request.patient_hn,
        request.last_known_well,
        request.nihss,
        request.suspected_lvo,
        request.teleconsult_requested,
        request.request_message_id,
        request.assessment.as_json() or None,
        request.requested_by,
        routing,
    )
    if row is None:
        raise LookupError(f"referral {request.referral_id} is no longer a pre-alert")
    return referral_from_row(row)


async def get_referral(
    connection: Connection, *, referral_id: str, for_update: bool = False
) -> Referral | None:
    """``for_update`` locks the row: concurrent changes to one referral apply one at a time."""
    row = await connection.fetchrow(
        f"SELECT * FROM referral WHERE id = $1{' FOR UPDATE' if for_update else ''}", referral_id
    )
    return None if row is None else referral_from_row(row)


def referral_from_row(row: asyncpg.Record) -> Referral:
    """The one reading of a referral row (the referral table's columns, and possibly more)."""
    return Referral(
        **{name: row[name] for name in _REFERRAL_FIELDS}, status=TaskStatus(row["status"])
    )


_REFERRAL_FIELDS = tuple(f.name for f in fields(Referral) if f.name != "status")


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


async def directory(connection: Connection) -> list[DirectoryEntry]:
    """Every hospital with its capabilities, live availability, coordinates and patient
    identifier system, by id."""
    rows = await connection.fetch(
        """
        SELECT id, name, name_th, capabilities, unavailable, latitude, longitude,
               (SELECT extension ->> 'valueUri'
                  FROM jsonb_array_elements(coalesce(resource -> 'extension', '[]'::jsonb))
                       extension
                 WHERE extension ->> 'url' = $1 AND extension ->> 'valueUri' IS NOT NULL
                 LIMIT 1) AS patient_identifier_system
        FROM organization ORDER BY id
        """,
        PATIENT_IDENTIFIER_SYSTEM_URL,
    )
    return [
        DirectoryEntry(
            id=row["id"],
            name=row["name"],
            name_th=row["name_th"],
            capabilities=tuple(row["capabilities"]),
            unavailable=tuple(row["unavailable"]),
            latitude=row["latitude"],
            longitude=row["longitude"],
            patient_identifier_system=row["patient_identifier_system"],
        )
        for row in rows
    ]


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


async def link_replacement(connection: Connection, *, old_id: str, new_id: str) -> None:
    await connection.execute("UPDATE referral SET replaced_by = $2 WHERE id = $1", old_id, new_id)


async def chain_of(connection: Connection, *, referral_id: str) -> list[tuple[str, str]]:
    """The referral and those it replaced, newest first, as (id, owner): the hospitals already
    asked for this patient, and (last) the first referral of the chain."""
    rows = await connection.fetch(
        """
        WITH RECURSIVE chain AS (
            SELECT id, owner_org, replaces, 0 AS depth FROM referral WHERE id = $1
            UNION ALL
            SELECT r.id, r.owner_org, r.replaces, c.depth + 1
            FROM referral r JOIN chain c ON r.id = c.replaces
        )
        SELECT id, owner_org FROM chain ORDER BY depth
        """,
        referral_id,
    )
    return [(row["id"], row["owner_org"]) for row in rows]


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


async def next_accept_by(connection: Connection) -> float | None:
    """The earliest accept-by deadline of a referral still waiting for an answer (epoch
    seconds; None: none waits)."""
    value = await connection.fetchval(
        "SELECT extract(epoch FROM min(accept_by)) FROM referral"
        " WHERE status = ANY($1::text[]) AND replaced_by IS NULL",
        status_codes(AWAITING_ANSWER),
    )
    return None if value is None else float(value)


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
