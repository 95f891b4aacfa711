"""SQL for referrals' timelines (schema ``referral``): the steps written about a referral, by
the referral service and by the services that report to it (a consult paged, a page
delivered), and read back in time order, one referral's or a whole patient's clock's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.referral.domain.commands import RecordStep
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

    @classmethod
    def of_step(cls, step: RecordStep) -> NewTimelineEntry:
        """Another service's step, as its timeline entry."""
        return cls(step.event.value, step.occurred_at, step.source, step.message_id, step.detail)


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


@dataclass(frozen=True)
class ClaimedSteps:
    """Another service's message with its steps for a referral's timeline (none, with no
    referral, for a message that is only recorded in the inbox), as ``add_claimed_echoes``
    writes it. ``unless_door_in``: not written when the patient's clock has the door-in (an
    alert may fall due)."""

    inbox: InboxEntry
    referral_id: str | None
    entries: Sequence[NewTimelineEntry]
    unless_door_in: bool


# Each message's claim and steps, in their order; written up to the first message not seen
# before that this statement cannot apply (an unknown referral, or the door-in known where
# it must not be), and none of the messages from that one on. Reads see the inbox as the
# statement began: the caller passes a message id once.
_ADD_CLAIMED_ECHOES = f"""
WITH echo AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS e (
        n int, referral_id text, unless_door_in boolean, sender text, message_id text,
        topic text, event_code text, content_digest text, entries jsonb
    )
), seen AS (
    SELECT echo.n, stored.content_digest
    FROM echo CROSS JOIN LATERAL (
        SELECT content_digest FROM inbox
        WHERE message_id = echo.message_id AND sender IN (echo.sender, '') LIMIT 1
    ) AS stored
), stop AS (
    SELECT coalesce(min(echo.n), 2147483647) AS n FROM echo
    WHERE echo.referral_id IS NOT NULL
      AND NOT EXISTS (SELECT FROM seen WHERE seen.n = echo.n)
      AND NOT EXISTS (
          SELECT FROM referral
          WHERE referral.id = echo.referral_id
            AND NOT (echo.unless_door_in AND EXISTS (
                SELECT FROM milestone WHERE referral_id = referral.clock_id AND code = $2
            ))
      )
), taken AS (
    SELECT echo.* FROM echo, stop
    WHERE echo.n < stop.n AND NOT EXISTS (SELECT FROM seen WHERE seen.n = echo.n)
), claimed AS (
    INSERT INTO inbox (sender, message_id, topic, event_code, content_digest)
    SELECT sender, message_id, topic, event_code, content_digest FROM taken
    RETURNING sender, message_id
), added AS (
    INSERT INTO timeline_entry ({TIMELINE_COLUMNS})
    SELECT taken.referral_id, e.event_code, e.occurred_at, e.source, e.message_id, e.detail
    FROM taken
    JOIN claimed ON claimed.sender = taken.sender AND claimed.message_id = taken.message_id,
    ROWS FROM (
        jsonb_to_recordset(taken.entries) AS (
            event_code text, occurred_at timestamptz, source text, message_id text,
            detail jsonb
        )
    ) WITH ORDINALITY AS e (event_code, occurred_at, source, message_id, detail, k)
    WHERE taken.referral_id IS NOT NULL
    ORDER BY taken.n, e.k
)
SELECT seen.n IS NOT NULL AS inbox_seen,
       seen.content_digest AS inbox_stored_digest,
       EXISTS (SELECT FROM taken WHERE taken.n = echo.n) AS inbox_claimed
FROM echo CROSS JOIN stop LEFT JOIN seen ON seen.n = echo.n
WHERE echo.n < stop.n
ORDER BY echo.n
"""


async def add_claimed_echoes(
    connection: Connection, messages: Sequence[ClaimedSteps], *, door_in_code: str
) -> list[Claim]:
    """Several messages' ``add_claimed_timeline_steps`` in one statement, in their order: what
    each claim found (``outcome_of``), for the messages from the first up to the one it could
    not apply (an unknown referral, or ``unless_door_in`` and the patient's clock has the
    milestone ``door_in_code``), which is written nothing, nor are those after it."""
    rows = await connection.fetch(
        _ADD_CLAIMED_ECHOES,
        [
            {
                "n": n,
                "referral_id": message.referral_id,
                "unless_door_in": message.unless_door_in,
                "sender": message.inbox.message.sender,
                "message_id": message.inbox.message.message_id,
                "topic": message.inbox.topic,
                "event_code": message.inbox.message.event.value,
                "content_digest": message.inbox.digest,
                "entries": _entries_json(message.entries),
            }
            for n, message in enumerate(messages)
        ],
        door_in_code,
    )
    claims = []
    for row, message in zip(rows, messages, strict=False):
        claim = outcome_of(row, message.inbox)
        if claim is None:  # neither seen nor claimed: only a message past the stop is
            raise RuntimeError("a message before the stop was neither seen nor claimed")
        claims.append(claim)
    return claims


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


async def clock_timelines(
    connection: Connection, *, clock_ids: Sequence[str]
) -> dict[str, list[TimelineEntry]]:
    """The timelines of every referral of each patient's clock of ``clock_ids`` (the first, its
    re-routings and transfers) as one, in time order (a consult may hang on any of them), in
    one statement whatever their number. A clock with no entry is absent."""
    rows = await connection.fetch(
        """
        SELECT r.clock_id, t.event_code, t.occurred_at, t.recorded_at, t.source, t.detail
        FROM timeline_entry t JOIN referral r ON r.id = t.referral_id
        WHERE r.clock_id = ANY($1::text[]) ORDER BY r.clock_id, t.occurred_at, t.id
        """,
        list(clock_ids),
    )
    found: dict[str, list[TimelineEntry]] = {}
    for row in rows:
        found.setdefault(row["clock_id"], []).append(timeline_entry_from_row(row))
    return found
