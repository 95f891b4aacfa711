"""SQL for live events (schema ``notifier``): the feed of a hospital's web pages.

Events of one hospital are numbered in commit order (an advisory lock per hospital is held from
the insert to the commit), so a page that has seen event n has seen every event before it and
resumes after n (SSE ``Last-Event-ID``) without a gap.

A transaction that takes several hospitals' locks takes them in one order, that of their lock
keys, all at once: two that took them in different orders waited for each other until PostgreSQL
aborted one (its ``deadlock_timeout``, 1 s). A statement locks its own hospitals so; records
fetched together, whose statements lock one hospital after another, are applied inside
``feeds_locked_together``, which has the first statement that takes a feed lock take all of
theirs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from opentelemetry.instrumentation.utils import suppress_instrumentation

from shared.db.pool import Connection

# NOTIFY channel; the payload is the hospital whose feed has something new.
LIVE_EVENT_CHANNEL = "notifier_live"


def feeds_in_order(hospitals: str) -> str:
    """A subquery ``feeds`` of the hospitals' lock keys (``feed``), from the SQL array of their
    names ``hospitals``, each once, in the order of the keys (two hospitals' names may hash
    alike: their one lock is taken once). Built from the caller's SQL, never from input."""
    return f"""(SELECT DISTINCT hashtext('live:' || organization) AS feed
      FROM unnest({hospitals}) AS named (organization)
      ORDER BY feed) AS feeds"""  # noqa: S608


@dataclass
class _TakenTogether:
    """The feed locks of a transaction's records, taken by its first statement that takes one."""

    connection: Connection
    hospitals: list[str]
    taken: bool = False


_taken_together: ContextVar[_TakenTogether | None] = ContextVar("taken_together", default=None)


@contextlib.contextmanager
def feeds_locked_together(connection: Connection, hospitals: Iterable[str]) -> Iterator[None]:
    """Inside, the first statement on ``connection`` that takes a hospital's feed lock takes
    those of all ``hospitals`` with its own, in the one order, so the statements after it
    (in the same transaction) take none of them out of order. No statement of its own."""
    named = sorted(set(hospitals))
    if len(named) < 2:  # one lock is taken in one order whenever it is taken
        yield
        return
    token = _taken_together.set(_TakenTogether(connection, named))
    try:
        yield
    finally:
        _taken_together.reset(token)


def also_locked(connection: Connection) -> list[str]:
    """The hospitals whose locks this statement takes too: all of the transaction's when it is
    the first to take any."""
    together = _taken_together.get()
    if together is None or together.taken or together.connection is not connection:
        return []
    return together.hospitals


def locks_taken(connection: Connection, locks: int) -> None:
    """A statement that took ``locks`` feed locks (with ``also_locked``'s) ran on
    ``connection``."""
    together = _taken_together.get()
    if locks and together is not None and together.connection is connection:
        together.taken = True


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
    statement. One statement: the hospital's lock (with those of ``feeds_locked_together``),
    the event with its NOTIFY (delivered at commit), the delivery's state; so it needs no
    transaction of its own (the lock is held to the statement's commit, or to the caller's if
    it runs in one)."""
    row = await connection.fetchrow(
        _PUBLISH,
        organization,
        kind,
        delivery_id,
        payload,
        LIVE_EVENT_CHANNEL,
        mark_sent,
        also_locked(connection),
    )
    if row is None:
        raise RuntimeError("the live event's statement returned no row")
    locks_taken(connection, row["locks"])
    return row["id"] is not None


# Built from the constant above, never from input.
_PUBLISH = f"""
    WITH locked AS (
        SELECT count(pg_advisory_xact_lock(feed)) AS locks
        FROM {feeds_in_order("array_prepend($1::text, $7::text[])")}
    ), inserted AS (
        INSERT INTO live_event (organization, kind, delivery_id, payload)
        SELECT $1, $2, $3, $4 FROM locked
        ON CONFLICT (delivery_id, kind) DO NOTHING
        RETURNING id
    ), sent AS (
        UPDATE delivery SET status = 'sent', sent_at = now(), lease_until = NULL
        WHERE $6 AND id = $3 AND status = 'pending'
    ), notified AS (  -- NOTIFY only for a new event
        SELECT id, pg_notify($5, $1) FROM inserted
    )
    SELECT (SELECT locks FROM locked) AS locks, (SELECT id FROM notified) AS id
    """  # noqa: S608


@dataclass(frozen=True)
class ShownEvent:
    """A live event written by the statement of its delivery (``published_with``)."""

    delivery_id: str
    organization: str
    payload: dict[str, Any]


def published_with(first_parameter: int, *, written: str, only_if: str = "") -> str:
    """CTEs of a caller's statement that add ``ShownEvent``s of kind $p+4 (passed from
    ``$first_parameter`` on: ``shown_parameters``) to their hospitals' feeds, those of the
    deliveries the CTE ``written`` returned (``id``) only: each hospital's lock taken first
    (with those of ``feeds_locked_together``, $p+5, all in the one order), the events, one
    NOTIFY per hospital ($p+3). The statement selects ``count(*) FROM live_notified`` so the
    NOTIFY is evaluated, and ``locks FROM live_locked``, which the caller hands to
    ``shown_locked``. ``only_if``: a WHERE clause no lock is taken without."""
    p = first_parameter
    hospitals = f"${p + 1}::text[] || ${p + 5}::text[]"
    # Built from numbers and names in the caller's own SQL, never from input.
    return f"""
live_locked AS (
    SELECT count(pg_advisory_xact_lock(feed)) AS locks
    FROM {feeds_in_order(hospitals)}
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


def shown_parameters(
    connection: Connection, events: list[ShownEvent], *, kind: str
) -> tuple[object, ...]:
    """``published_with``'s six parameters, for a statement on ``connection``."""
    return (
        [event.delivery_id for event in events],
        [event.organization for event in events],
        # As text, cast in the statement (as the deliveries' JSON columns).
        [orjson.dumps(event.payload).decode() for event in events],
        LIVE_EVENT_CHANNEL,
        kind,
        also_locked(connection),
    )


def shown_locked(connection: Connection, locks: int) -> None:
    """What the statement of ``published_with`` answered as ``locks``: its feed locks taken,
    those of ``feeds_locked_together`` with them (none when ``only_if`` held it back)."""
    locks_taken(connection, locks)


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
