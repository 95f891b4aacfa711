"""SQL for teleconsults (schema ``telemedicine``); returns domain objects only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from services.telemedicine.domain.model import Consult, ConsultStep
from shared.db.pool import Connection
from shared.messaging.inbox import (
    INBOX_OUTCOME,
    Claim,
    InboxEntry,
    inbox_claimed,
    inbox_seen,
    outcome_of,
)
from shared.messaging.outbox import OutboxEvent, outbox_insert, outbox_parameters
from shared.workflow.consult_state import AWAITING_CONSULTANT, ConsultStage

_AWAITING = sorted(stage.value for stage in AWAITING_CONSULTANT)
_CONSULT = """
    SELECT * FROM consult
     WHERE id = $1 AND ($2::text IS NULL OR $2 IN (requester_org, consultant_org))
"""
_CONSULT_FOR_UPDATE = _CONSULT + " FOR UPDATE"


async def insert_consult(connection: Connection, *, consult: Consult) -> bool:
    status: str = await connection.execute(
        """
        INSERT INTO consult (id, referral_id, status, stage, requester_org, consultant_org,
                             requested_at, room, patient, episode_id, asked_first)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING
        """,
        consult.id,
        consult.referral_id,
        consult.status.value,
        consult.stage.value,
        consult.requester_org,
        consult.consultant_org,
        consult.requested_at,
        consult.room,
        consult.patient,
        consult.episode,
        consult.asked_first,
    )
    return status.endswith(" 1")


_QUEUED_IF_OPENED = outbox_insert(27, only_if="opened")


@dataclass(frozen=True)
class OpenedPaged:
    """What ``open_consult_paged`` did: whether the consult opened (False: open already,
    nothing written), and what had come about its page before it opened: an acknowledgement
    (its person as a one-tuple; the person may be unknown) or a final failure (nobody reached)."""

    opened: bool
    acknowledged_by: tuple[str | None] | None = None
    unreached: bool = False


def _open_consult_paged(*, claimed: bool) -> str:
    """``open_consult_paged``'s statement; ``claimed``: with the message that opens it recorded
    in the inbox ($33 to $37), the consult opened only if the message was not seen and no
    early acknowledgement or final failure of its page waits (taking one is more than this
    statement), the message recorded only if the consult opened."""
    seen = f"{inbox_seen(33)}," if claimed else ""
    unseen = (
        """WHERE NOT EXISTS (SELECT FROM inbox_seen)
              AND NOT EXISTS (SELECT FROM early_acknowledgement WHERE request_id = $24)
              AND NOT EXISTS (SELECT FROM early_unreached_page WHERE request_id = $24)"""
        if claimed
        else ""
    )
    claim = f", {inbox_claimed(33, only_if='opened')}" if claimed else ""
    outcome = f", {INBOX_OUTCOME}" if claimed else ""
    # Built from constant fragments, never from input.
    return f"""
        WITH {seen} opened AS (
            INSERT INTO consult (id, referral_id, status, stage, requester_org, consultant_org,
                                 requested_at, room, patient, episode_id, asked_first, rung,
                                 next_deadline, consultant, accepted_at, video_at, decided_at,
                                 status_reason)
            SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                   $17, $18
            {unseen}
            ON CONFLICT DO NOTHING
            RETURNING id
        ){claim}, step AS (
            INSERT INTO consult_step (consult_id, stage, rung, occurred_at, reason, actor)
            SELECT id, $19, $20, $21, $22, $23 FROM opened
        ), page AS (
            INSERT INTO consult_page (request_id, consult_id, rung, paged, paged_at)
            SELECT $24, id, $20, $25, $21 FROM opened
            ON CONFLICT DO NOTHING
        ), early AS (
            DELETE FROM early_acknowledgement
            WHERE $26 AND request_id = $24 AND EXISTS (SELECT 1 FROM opened)
            RETURNING person
        ), unreached AS (
            DELETE FROM early_unreached_page
            WHERE $26 AND request_id = $24 AND EXISTS (SELECT 1 FROM opened)
            RETURNING request_id
        ), queued AS ({_QUEUED_IF_OPENED})
        SELECT EXISTS (SELECT 1 FROM opened) AS opened,
               EXISTS (SELECT 1 FROM early) AS acknowledged_early,
               (SELECT person FROM early LIMIT 1) AS person,
               EXISTS (SELECT 1 FROM unreached) AS unreached_early{outcome}
        """


_OPEN_CONSULT_PAGED = _open_consult_paged(claimed=False)
_OPEN_CLAIMED_CONSULT_PAGED = _open_consult_paged(claimed=True)


async def open_consult_paged(
    connection: Connection,
    *,
    consult: Consult,
    step: ConsultStep,
    page_request_id: str,
    paged: str,
    take_early_page_outcomes: bool,
    events: Sequence[OutboxEvent] = (),
) -> OpenedPaged:
    """Opens ``consult`` already in the stage its first ``step`` took it to (paging a rung
    another service paged: the page is recorded), in one statement: the consult, its step and
    its page, with an acknowledgement or a final failure (nobody reached) of the page that came
    before the consult opened taken when ``take_early_page_outcomes``, and ``events`` queued
    in the outbox if it opened."""
    row = await connection.fetchrow(
        _OPEN_CONSULT_PAGED,
        *_opening_parameters(consult, step, page_request_id, paged),
        take_early_page_outcomes,
        *outbox_parameters(events),
    )
    if row is None or not row["opened"]:
        return OpenedPaged(opened=False)
    return OpenedPaged(
        opened=True,
        acknowledged_by=(row["person"],) if row["acknowledged_early"] else None,
        unreached=row["unreached_early"],
    )


async def open_claimed_consult_paged(
    connection: Connection,
    *,
    consult: Consult,
    step: ConsultStep,
    page_request_id: str,
    paged: str,
    events: Sequence[OutboxEvent],
    inbox: InboxEntry,
) -> Claim | None:
    """``open_consult_paged`` with the message that opens it recorded in the inbox by the same
    statement, its one round trip (no transaction): what the claim found (``outcome_of``).
    None, with nothing written, the claim neither: the consult is open already, or an
    acknowledgement or a final failure of its page came before it."""
    row = await connection.fetchrow(
        _OPEN_CLAIMED_CONSULT_PAGED,
        *_opening_parameters(consult, step, page_request_id, paged),
        False,  # what came early about its page: open_consult_paged, in a transaction
        *outbox_parameters(events),
        *inbox.parameters,
    )
    if row is None:
        raise RuntimeError("the consult's INSERT returned no row")
    return outcome_of(row, inbox)


def _opening_parameters(
    consult: Consult,
    step: ConsultStep,
    page_request_id: str,
    paged: str,
) -> tuple[object, ...]:
    """$1 to $25 (then $26, whether what came early about the page is taken, and the events)."""
    return (
        consult.id,
        consult.referral_id,
        consult.status.value,
        consult.stage.value,
        consult.requester_org,
        consult.consultant_org,
        consult.requested_at,
        consult.room,
        consult.patient,
        consult.episode,
        consult.asked_first,
        consult.rung,
        consult.next_deadline,
        consult.consultant,
        consult.accepted_at,
        consult.video_at,
        consult.decided_at,
        consult.status_reason,
        step.stage.value,
        step.rung,
        step.occurred_at,
        step.reason,
        step.actor,
        page_request_id,
        paged,
    )


async def save_consult(connection: Connection, *, consult: Consult, step: ConsultStep) -> None:
    """The consult in its new stage and the step that took it there, in one statement."""
    await connection.execute(
        """
        WITH saved AS (
            UPDATE consult SET status = $2, stage = $3, rung = $4, next_deadline = $5,
                   consultant = $6, accepted_at = $7, video_at = $8, decided_at = $9,
                   status_reason = $10
             WHERE id = $1
        )
        INSERT INTO consult_step (consult_id, stage, rung, occurred_at, reason, actor)
        VALUES ($1, $11, $12, $13, $14, $15)
        """,
        consult.id,
        consult.status.value,
        consult.stage.value,
        consult.rung,
        consult.next_deadline,
        consult.consultant,
        consult.accepted_at,
        consult.video_at,
        consult.decided_at,
        consult.status_reason,
        step.stage.value,
        step.rung,
        step.occurred_at,
        step.reason,
        step.actor,
    )


async def steps_of(connection: Connection, *, consult_id: str) -> list[ConsultStep]:
    rows = await connection.fetch(
        "SELECT * FROM consult_step WHERE consult_id = $1 ORDER BY id", consult_id
    )
    return [
        ConsultStep(
            consult_id=row["consult_id"],
            stage=ConsultStage(row["stage"]),
            occurred_at=row["occurred_at"],
            rung=row["rung"],
            reason=row["reason"],
            actor=row["actor"],
        )
        for row in rows
    ]


async def add_page(
    connection: Connection,
    *,
    request_id: str,
    consult_id: str,
    rung: int,
    paged: str,
    at: datetime,
) -> None:
    """Records a page of the consult (a consult's first, paged by another service, is recorded
    as the consult opens: ``open_consult_paged``)."""
    await connection.execute(
        """
        INSERT INTO consult_page (request_id, consult_id, rung, paged, paged_at)
        VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING
        """,
        request_id,
        consult_id,
        rung,
        paged,
        at,
    )


async def consult_paged_by(connection: Connection, *, request_id: str) -> str | None:
    """The consult a page (CommunicationRequest id) was sent for; None when it is not ours."""
    consult_id: str | None = await connection.fetchval(
        "SELECT consult_id FROM consult_page WHERE request_id = $1", request_id
    )
    return consult_id


async def page_of(connection: Connection, *, request_id: str) -> tuple[str, int] | None:
    """The consult a page (CommunicationRequest id) was sent for and the rung it paged; None
    when it is not ours."""
    row = await connection.fetchrow(
        "SELECT consult_id, rung FROM consult_page WHERE request_id = $1", request_id
    )
    return (row["consult_id"], row["rung"]) if row is not None else None


async def consults_for_referral(
    connection: Connection, *, referral_id: str, party: str
) -> list[Consult]:
    """The referral's consults between ``party`` and another hospital (none for a third)."""
    rows = await connection.fetch(
        """
        SELECT * FROM consult
         WHERE (referral_id = $1 OR linked_referral = $1)
           AND $2 IN (requester_org, consultant_org)
        """,
        referral_id,
        party,
    )
    return [_consult(row) for row in rows]


async def get_consult(
    connection: Connection, *, consult_id: str, party: str | None = None, for_update: bool = False
) -> Consult | None:
    """The consult; with ``party``, only when that hospital is one of its two (else None, as
    if it did not exist: a third hospital learns nothing, not even that it exists)."""
    row = await connection.fetchrow(
        _CONSULT_FOR_UPDATE if for_update else _CONSULT,
        consult_id,
        party,
    )
    return _consult(row) if row is not None else None


async def overdue_consult_ids(connection: Connection, *, now: datetime) -> list[str]:
    """Consults still waiting for a consultant whose rung has had its time, most overdue first."""
    rows = await connection.fetch(
        """
        SELECT id FROM consult
         WHERE next_deadline <= $1 AND stage = ANY($2::text[])
         ORDER BY next_deadline LIMIT 100
        """,
        now,
        _AWAITING,
    )
    return [row["id"] for row in rows]


async def next_consult_deadline(connection: Connection) -> float | None:
    """The earliest deadline of a consult still waiting for a consultant (epoch seconds; None:
    none waits)."""
    value = await connection.fetchval(
        "SELECT extract(epoch FROM min(next_deadline)) FROM consult WHERE stage = ANY($1::text[])",
        _AWAITING,
    )
    return None if value is None else float(value)


def _consult(row: asyncpg.Record) -> Consult:
    return Consult(
        id=row["id"],
        referral_id=row["referral_id"],
        stage=ConsultStage(row["stage"]),
        requester_org=row["requester_org"],
        consultant_org=row["consultant_org"],
        requested_at=row["requested_at"],
        room=row["room"],
        patient=row["patient"],
        rung=row["rung"],
        next_deadline=row["next_deadline"],
        consultant=row["consultant"],
        accepted_at=row["accepted_at"],
        video_at=row["video_at"],
        decided_at=row["decided_at"],
        status_reason=row["status_reason"],
        episode=row["episode_id"],
        asked_first=row["asked_first"],
        linked_referral=row["linked_referral"],
    )


async def consults_of_hospital(connection: Connection, *, hospital: str) -> list[Consult]:
    """The latest consults the hospital asked for or answers (a page's list), newest first."""
    rows = await connection.fetch(
        """
        SELECT * FROM consult WHERE $1 IN (requester_org, consultant_org)
         ORDER BY requested_at DESC LIMIT 100
        """,
        hospital,
    )
    return [_consult(row) for row in rows]
