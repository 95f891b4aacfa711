"""SQL for referrals' timelines (schema ``referral``): the steps written about a referral, by
the referral service and by the services that report to it (a consult paged, a page
delivered), and read back in time order, one referral's or a whole patient's clock's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.referral.domain.model import TimelineEntry
from shared.db.pool import Connection
from shared.messaging.inbox import INBOX_OUTCOME, Claim, InboxEntry, inbox_claim, outcome_of


@dataclass(frozen=True)
class NewTimelineEntry:
    """A timeline entry written with the referral it is about (its first)."""

    event_code: str
    occurred_at: datetime
    source: str
    message_id: str | None
    detail: dict[str, Any]


TIMELINE_COLUMNS = "referral_id, event_code, occurred_at, source, message_id, detail"
_INSERT_TIMELINE_ENTRY = (
    f"INSERT INTO timeline_entry ({TIMELINE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
)


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
        _INSERT_TIMELINE_ENTRY,
        referral_id,
        event_code,
        occurred_at,
        source,
        message_id,
        detail,
    )


async def add_timeline_entries(
    connection: Connection,
    *,
    referral_id: str,
    event_code: str,
    source: str,
    message_id: str | None,
    steps: list[tuple[datetime, dict[str, Any]]],
) -> None:
    """Several entries of one message (each at its own time, with its detail) in one round
    trip."""
    await connection.executemany(
        _INSERT_TIMELINE_ENTRY,
        [
            (referral_id, event_code, occurred_at, source, message_id, detail)
            for occurred_at, detail in steps
        ],
    )


async def add_timeline_entry_if_known(
    connection: Connection,
    *,
    referral_id: str,
    event_code: str,
    occurred_at: datetime,
    source: str,
    message_id: str | None,
    detail: dict[str, Any],
) -> bool:
    """``add_timeline_entry`` for a referral that may not exist (another service's step):
    False, and nothing added, when it does not. One statement: no reading of the referral."""
    status: str = await connection.execute(
        f"""
        INSERT INTO timeline_entry ({TIMELINE_COLUMNS})
        SELECT id, $2, $3, $4, $5, $6 FROM referral WHERE id = $1
        """,
        referral_id,
        event_code,
        occurred_at,
        source,
        message_id,
        detail,
    )
    return status.endswith(" 1")


async def add_timeline_steps_if_known(
    connection: Connection,
    *,
    referral_id: str,
    entries: Sequence[NewTimelineEntry],
    door_in_code: str,
) -> tuple[bool, bool]:
    """Several entries of one message (each with its event, time and source) for a referral
    that may not exist, in one statement, which also says whether the patient's clock has the
    milestone ``door_in_code``: (added, door-in known). Nothing is added for an unknown
    referral."""
    row = await connection.fetchrow(
        f"""
        WITH added AS (
            INSERT INTO timeline_entry ({TIMELINE_COLUMNS})
            SELECT referral.id, e.event_code, e.occurred_at, e.source, e.message_id, e.detail
            FROM referral, ROWS FROM (
                jsonb_to_recordset($2::jsonb) AS (
                    event_code text, occurred_at timestamptz, source text, message_id text,
                    detail jsonb
                )
            ) WITH ORDINALITY AS e (event_code, occurred_at, source, message_id, detail, n)
            WHERE referral.id = $1
            ORDER BY e.n
            RETURNING 1
        )
        SELECT EXISTS (SELECT 1 FROM added) AS added,
               EXISTS (
                   SELECT 1 FROM milestone
                   WHERE referral_id = (SELECT clock_id FROM referral WHERE id = $1)
                     AND code = $3
               ) AS door_in_known
        """,
        referral_id,
        _entries_json(entries),
        door_in_code,
    )
    if row is None:
        raise RuntimeError("the timeline INSERT returned no row")
    return bool(row["added"]), bool(row["door_in_known"])


async def add_claimed_timeline_steps(
    connection: Connection,
    *,
    referral_id: str,
    entries: Sequence[NewTimelineEntry],
    inbox: InboxEntry,
    door_in_code: str,
    unless_door_in: bool,
) -> tuple[Claim | None, bool]:
    """``add_timeline_steps_if_known`` with the message that reports the steps recorded in the
    inbox by the same statement, its one round trip (no transaction): what the claim found
    (``outcome_of``) and whether the referral is known. Nothing is written, the claim neither,
    for an unknown referral, or when ``unless_door_in`` and the patient's clock has the
    milestone ``door_in_code`` (an alert may fall due: the caller applies the message in a
    transaction)."""
    row = await connection.fetchrow(
        f"""
        WITH target AS (
            SELECT referral.id FROM referral
            WHERE referral.id = $1
              AND NOT ($4 AND EXISTS (
                  SELECT FROM milestone WHERE referral_id = referral.clock_id AND code = $3
              ))
        ), {inbox_claim(5, only_if="target")}, added AS (
            INSERT INTO timeline_entry ({TIMELINE_COLUMNS})
            SELECT target.id, e.event_code, e.occurred_at, e.source, e.message_id, e.detail
            FROM target, ROWS FROM (
                jsonb_to_recordset($2::jsonb) AS (
                    event_code text, occurred_at timestamptz, source text, message_id text,
                    detail jsonb
                )
            ) WITH ORDINALITY AS e (event_code, occurred_at, source, message_id, detail, n)
            WHERE EXISTS (SELECT FROM inbox_claimed)
            ORDER BY e.n
        )
        SELECT {INBOX_OUTCOME},
               EXISTS (SELECT FROM referral WHERE id = $1) AS known
        """,
        referral_id,
        _entries_json(entries),
        door_in_code,
        unless_door_in,
        *inbox.parameters,
    )
    if row is None:
        raise RuntimeError("the timeline INSERT returned no row")
    return outcome_of(row, inbox), bool(row["known"])


def _entries_json(entries: Sequence[NewTimelineEntry]) -> list[dict[str, Any]]:
    return [
        {
            "event_code": entry.event_code,
            "occurred_at": entry.occurred_at.isoformat(),
            "source": entry.source,
            "message_id": entry.message_id,
            "detail": entry.detail,
        }
        for entry in entries
    ]


async def timeline(connection: Connection, *, referral_id: str) -> list[TimelineEntry]:
    rows = await connection.fetch(
        """
        SELECT event_code, occurred_at, recorded_at, source, detail FROM timeline_entry
        WHERE referral_id = $1 ORDER BY occurred_at, id
        """,
        referral_id,
    )
    return [timeline_entry_from_row(row) for row in rows]


def timeline_entry_from_row(row: asyncpg.Record) -> TimelineEntry:
    return TimelineEntry(
        event_code=row["event_code"],
        occurred_at=row["occurred_at"],
        recorded_at=row["recorded_at"],
        source=row["source"],
        detail=row["detail"],
    )


async def clock_timeline(connection: Connection, *, clock_id: str) -> list[TimelineEntry]:
    """The timelines of every referral of one patient's clock (the first, its re-routings and
    transfers) as one, in time order: a consult may hang on any of them."""
    rows = await connection.fetch(
        """
        SELECT t.event_code, t.occurred_at, t.recorded_at, t.source, t.detail
        FROM timeline_entry t JOIN referral r ON r.id = t.referral_id
        WHERE r.clock_id = $1 ORDER BY t.occurred_at, t.id
        """,
        clock_id,
    )
    return [timeline_entry_from_row(row) for row in rows]
