"""SQL for live events (schema ``notifier``): the feed of a hospital's web pages.

Events of one hospital are numbered in commit order (an advisory lock per hospital is held from
the insert to the commit), so a page that has seen event n has seen every event before it and
resumes after n (SSE ``Last-Event-ID``) without a gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from opentelemetry.instrumentation.utils import suppress_instrumentation

from shared.db.pool import Connection

# NOTIFY channel; the payload is the hospital whose feed has something new.
LIVE_EVENT_CHANNEL = "notifier_live"


@dataclass(frozen=True)
class LiveEvent:
    id: int
    kind: str
    payload: dict[str, Any]


async def publish(
    connection: Connection,
    *,
    organization: str,
    kind: str,
    delivery_id: str,
    payload: dict[str, Any],
    mark_sent: bool = False,
) -> bool:
    """Adds an event to the hospital's feed; False when this delivery's event of this kind is
    already there. ``mark_sent``: the delivery (in-app, pending) is recorded sent by the same
    statement. One statement: the hospital's lock, the event with its NOTIFY (delivered at
    commit), the delivery's state; so it needs no transaction of its own (the lock is held to
    the statement's commit, or to the caller's if it runs in one)."""
    inserted = await connection.fetchval(
        """
        WITH locked AS (
            SELECT pg_advisory_xact_lock(hashtext('live:' || $1))
        ), inserted AS (
            INSERT INTO live_event (organization, kind, delivery_id, payload)
            SELECT $1, $2, $3, $4 FROM locked
            ON CONFLICT (delivery_id, kind) DO NOTHING
            RETURNING id
        ), sent AS (
            UPDATE delivery SET status = 'sent', sent_at = now(), lease_until = NULL
            WHERE $6 AND id = $3 AND status = 'pending'
        )
        -- NOTIFY only for a new event
        SELECT id, pg_notify($5, $1) FROM inserted
        """,
        organization,
        kind,
        delivery_id,
        payload,
        LIVE_EVENT_CHANNEL,
        mark_sent,
    )
    return inserted is not None


@dataclass(frozen=True)
class ShownEvent:
    """A live event written by the statement of its delivery (``published_with``)."""

    delivery_id: str
    organization: str
    payload: dict[str, Any]


def published_with(first_parameter: int, *, written: str, only_if: str = "") -> str:
    """CTEs of a caller's statement that add ``ShownEvent``s of kind $p+4 (passed from
    ``$first_parameter`` on: ``shown_parameters``) to their hospitals' feeds, those of the
    deliveries the CTE ``written`` returned (``id``) only: each hospital's lock taken first (in
    name order: two statements lock two hospitals alike), the events, one NOTIFY per hospital
    ($p+3). The statement selects ``count(*) FROM live_notified`` so the NOTIFY is evaluated.
    ``only_if``: a WHERE clause no lock is taken without."""
    p = first_parameter
    # Built from numbers and names in the caller's own SQL, never from input.
    return f"""
live_locked AS (
    SELECT count(pg_advisory_xact_lock(hashtext('live:' || organization))) AS locks
    FROM (SELECT DISTINCT organization FROM unnest(${p + 1}::text[]) AS shown (organization)
          ORDER BY organization) AS hospitals
    {only_if}
), live_published AS (
    INSERT INTO live_event (organization, kind, delivery_id, payload)
    SELECT shown.organization, ${p + 4}, shown.delivery_id, shown.payload::jsonb
    FROM unnest(${p}::text[], ${p + 1}::text[], ${p + 2}::text[])
             AS shown (delivery_id, organization, payload),
         live_locked
    WHERE shown.delivery_id IN (SELECT id FROM {written})
    ON CONFLICT (delivery_id, kind) DO NOTHING
    RETURNING organization
), live_notified AS (
    SELECT pg_notify(${p + 3}, organization)
    FROM (SELECT DISTINCT organization FROM live_published) AS told
)"""  # noqa: S608


def shown_parameters(events: list[ShownEvent], *, kind: str) -> tuple[object, ...]:
    """``published_with``'s five parameters."""
    return (
        [event.delivery_id for event in events],
        [event.organization for event in events],
        # As text, cast in the statement (as the deliveries' JSON columns).
        [orjson.dumps(event.payload).decode() for event in events],
        LIVE_EVENT_CHANNEL,
        kind,
    )


async def events_after(
    connection: Connection, *, organization: str, after_id: int, limit: int = 100
) -> list[LiveEvent]:
    with suppress_instrumentation():  # polled by every open page
        rows = await connection.fetch(
            """
            SELECT id, kind, payload FROM live_event
            WHERE organization = $1 AND id > $2 ORDER BY id LIMIT $3
            """,
            organization,
            after_id,
            limit,
        )
    return [LiveEvent(row["id"], row["kind"], row["payload"]) for row in rows]


async def last_id_before(connection: Connection, *, organization: str, before: datetime) -> int:
    """Where a page that connects fresh starts: after the last event older than its backlog."""
    value = await connection.fetchval(
        "SELECT max(id) FROM live_event WHERE organization = $1 AND created_at < $2",
        organization,
        before,
    )
    return int(value or 0)


async def forget_older_than(connection: Connection, *, before: datetime) -> int:
    """Drops feed events nobody will ask for again (deliveries keep the record)."""
    status: str = await connection.execute("DELETE FROM live_event WHERE created_at < $1", before)
    return int(status.split()[-1])
