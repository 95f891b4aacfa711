"""SQL for the clinicians' pages' live feed (schema ``referral``): the referral timeline, read in
feed-position order and scoped, in the query, to the referrals a hospital sends or receives.

A timeline entry's bigserial id grows in insert order, not commit order, so a page that read
"everything after id 6" could miss an entry 5 committed a moment later. ``stamp_committed``
therefore gives committed entries a feed position, one batch at a time under a transaction-scoped
advisory lock: a batch is numbered only after the previous batch committed, so positions grow in
the order entries became visible and a page that has seen position n has seen all before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from opentelemetry.instrumentation.utils import suppress_instrumentation

from shared.db.pool import Connection

# NOTIFY channel (suffixed with the schema, as the outbox's): a timeline entry was committed.
# Every referral process hears it, stamps (numbering it, or finding it numbered by another
# process's stamp, whose lock it waits for) and then wakes its own open pages; so a stamp
# NOTIFYs nobody: a notifying commit wakes every listening backend of the database and is
# serialized with every other notifying commit of the cluster.
TIMELINE_CHANNEL = "timeline_"


@dataclass(frozen=True)
class PageEvent:
    """One step of a referral, as an open page hears of it: which referral, what happened, and
    the referral's state now (no patient data: the page fetches what it shows, scoped again)."""

    position: int
    referral_id: str
    event_code: str
    status: str
    requester_org: str
    owner_org: str

    def data(self) -> dict[str, str]:
        return {
            "referral_id": self.referral_id,
            "event": self.event_code,
            "status": self.status,
            "requester": self.requester_org,
            "owner": self.owner_org,
        }


def _stamp_script(schema: str) -> str:
    """The stamp as one text of two statements (sent in one round trip; without parameters,
    which only a single statement can take, so the schema, a plain identifier, is written in).
    The lock is its own statement: the numbering that follows reads what was committed before
    the lock was granted (each statement of a text sees the commits before it began), so a
    stamp that waited for another's numbers after it. The result's row count is how many it
    numbered."""
    if not _PLAIN_IDENTIFIER.fullmatch(schema):
        raise ValueError(f"not a plain schema name: {schema[:80]!r}")
    return f"""
        SELECT pg_advisory_xact_lock(hashtext('page-feed:{schema}'));
        WITH waiting AS (
            SELECT id, row_number() OVER (ORDER BY id) AS n
            FROM timeline_entry WHERE feed_position IS NULL
        ), top AS (
            SELECT coalesce(max(feed_position), 0) AS position FROM timeline_entry
        ), numbered AS (
            UPDATE timeline_entry AS entry SET feed_position = top.position + waiting.n
            FROM waiting, top WHERE entry.id = waiting.id
            RETURNING entry.id
        )
        SELECT 1 FROM numbered
        """


_PLAIN_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")


async def stamp_committed(connection: Connection, *, schema: str) -> int:
    """Numbers the committed entries that have no feed position yet; returns how many. One
    round trip: in the caller's transaction, or alone (the text is then its own transaction:
    the lock is held to its end)."""
    status: str = await connection.execute(_stamp_script(schema))
    return int(status.removeprefix("SELECT "))


async def anything_to_stamp(connection: Connection) -> bool:
    """Whether a committed entry waits for its feed position (the partial index answers)."""
    waiting: bool = await connection.fetchval(
        "SELECT EXISTS (SELECT 1 FROM timeline_entry WHERE feed_position IS NULL)"
    )
    return waiting


async def latest_position(connection: Connection) -> int:
    """Where a page that connects fresh starts: it has just rendered everything up to now."""
    value = await connection.fetchval("SELECT max(feed_position) FROM timeline_entry")
    return int(value or 0)


async def events_after(
    connection: Connection, *, hospital_id: str | None, after: int, limit: int
) -> list[PageEvent]:
    """The feed after ``after``, in order: only referrals ``hospital_id`` sends or receives
    (None: the whole province, for operators)."""
    with suppress_instrumentation():  # every open page reads it on every wake-up
        rows = await connection.fetch(
            """
            SELECT entry.feed_position, entry.referral_id, entry.event_code, referral.status,
                   referral.requester_org, referral.owner_org
            FROM timeline_entry AS entry JOIN referral ON referral.id = entry.referral_id
            WHERE entry.feed_position > $1
              AND ($2::text IS NULL OR $2 IN (referral.requester_org, referral.owner_org))
            ORDER BY entry.feed_position
            LIMIT $3
            """,
            after,
            hospital_id,
            limit,
        )
    return [
        PageEvent(
            position=row["feed_position"],
            referral_id=row["referral_id"],
            event_code=row["event_code"],
            status=row["status"],
            requester_org=row["requester_org"],
            owner_org=row["owner_org"],
        )
        for row in rows
    ]
