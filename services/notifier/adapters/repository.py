"""SQL for deliveries (schema ``notifier``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg
from opentelemetry.instrumentation.utils import suppress_instrumentation

from services.notifier.adapters import live_events
from services.notifier.domain.model import Channel, Delivery
from shared.db.pool import Connection
from shared.messaging.outbox import outbox_insert


async def insert_delivery(connection: Connection, *, delivery: Delivery) -> bool:
    status: str = await connection.execute(
        """
        INSERT INTO delivery (id, request_id, referral_id, recipient, channel, priority, body,
                              trace_context, address, escalation_step, addressed_to, hospital,
                              role)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
        ON CONFLICT DO NOTHING
        """,
        *delivery_values(delivery),
    )
    return status.endswith(" 1")


def delivery_values(delivery: Delivery) -> tuple[object, ...]:
    """A delivery's 13 columns, in ``insert_delivery``'s order."""
    return (
        delivery.id,
        delivery.request_id,
        delivery.referral_id,
        delivery.recipient,
        delivery.channel.value,
        delivery.priority,
        delivery.body,
        delivery.trace_context,
        delivery.address,
        delivery.escalation_step,
        delivery.addressed_to,
        delivery.hospital,
        delivery.role,
    )


async def claim_due(pool: asyncpg.Pool, *, limit: int, lease_s: float) -> list[Delivery]:
    """Leases due deliveries to this sender; a lease that expires (sender died) frees them.

    Not traced: it runs every poll; each delivery continues its request's trace instead.
    """
    with suppress_instrumentation():
        rows = await pool.fetch(
            """
            UPDATE delivery SET lease_until = now() + make_interval(secs => $2),
                                attempts = attempts + 1
            WHERE id IN (
                SELECT id FROM delivery
                WHERE status = 'pending' AND next_attempt_at <= now()
                  AND (lease_until IS NULL OR lease_until < now())
                ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
            RETURNING *
            """,
            limit,
            lease_s,
        )
    return [_delivery(row) for row in rows]


async def seconds_until_due(pool: asyncpg.Pool) -> float | None:
    """How long until the earliest pending delivery may be claimed (its next attempt's time,
    or its lease's end when a sender holds it); None when none is pending. Not traced."""
    with suppress_instrumentation():
        value = await pool.fetchval(
            """
            SELECT extract(epoch FROM min(greatest(next_attempt_at,
                                                   coalesce(lease_until, next_attempt_at)))
                                      - now())
            FROM delivery WHERE status = 'pending'
            """
        )
    return None if value is None else float(value)


async def mark_sent(connection: Connection, *, delivery_id: str) -> bool:
    status: str = await connection.execute(
        """
        UPDATE delivery SET status = 'sent', sent_at = now(), lease_until = NULL
        WHERE id = $1 AND status = 'pending'
        """,
        delivery_id,
    )
    return status.endswith(" 1")


_MARK_ALL_SENT_AND_TELL = f"""
WITH sent AS (
    UPDATE delivery SET status = 'sent', sent_at = now(), lease_until = NULL
    WHERE id = ANY($1::text[]) AND status = 'pending'
    RETURNING id
), told AS ({outbox_insert(2, each_only_if="sent")})
SELECT count(*) FROM sent
"""


async def mark_all_sent_and_tell(
    connection: Connection, *, delivery_ids: list[str], outcomes: Sequence[Sequence[str]]
) -> int:
    """``mark_sent`` for deliveries sent and, for each this marked, its outcome queued in the
    outbox (``outcomes``: ``outbox_parameters``' six arrays, one event per delivery, in
    ``delivery_ids``' order): one statement, so it needs no transaction. How many it marked
    (one another sender had finished is not, and its outcome was told by that sender)."""
    marked: int = await connection.fetchval(
        _MARK_ALL_SENT_AND_TELL, delivery_ids, *outcomes, delivery_ids
    )
    return marked


async def mark_failed(connection: Connection, *, delivery_id: str, reason: str) -> bool:
    status: str = await connection.execute(
        """
        UPDATE delivery SET status = 'failed', last_error = $2, lease_until = NULL
        WHERE id = $1 AND status = 'pending'
        """,
        delivery_id,
        reason,
    )
    return status.endswith(" 1")


async def mark_delivered(
    connection: Connection, *, delivery_id: str, at: datetime
) -> Delivery | None:
    """Records the first receipt of a delivery and returns it; None for a repeated or unknown
    one. A receipt may beat the sender's own bookkeeping (a page shows a live event the moment
    it is committed, before the dispatcher marks it sent), so a pending delivery takes it too."""
    row = await connection.fetchrow(
        """
        UPDATE delivery SET delivered_at = $2
        WHERE id = $1 AND status IN ('pending', 'sent') AND delivered_at IS NULL
        RETURNING *
        """,
        delivery_id,
        at,
    )
    return _delivery(row) if row is not None else None


async def mark_undelivered(
    connection: Connection, *, delivery_id: str, reason: str
) -> Delivery | None:
    """A sent message the gateway could not deliver after all: failed, as if refused at once.
    Returns it; None for a repeated or unknown report."""
    row = await connection.fetchrow(
        """
        UPDATE delivery SET status = 'failed', last_error = $2
        WHERE id = $1 AND status = 'sent' AND delivered_at IS NULL
        RETURNING *
        """,
        delivery_id,
        reason,
    )
    return _delivery(row) if row is not None else None


async def mark_acknowledged(
    connection: Connection, *, delivery_id: str, at: datetime, by: str
) -> Delivery | None:
    """Records the first acknowledgement and returns the delivery; None when it already had
    one, or is unknown. The delivery's hospital's feed lock (its acknowledgement goes on the
    hospital's pages next) is taken before the delivery's row: a transaction holding that
    lock and then acknowledging the same delivery (an alert answered on the board, in a batch
    whose first statement took all its feed locks) no longer waits for one holding the row
    and waiting for the lock (``live_events.feeds_locked_together``)."""
    row = await connection.fetchrow(
        _MARK_ACKNOWLEDGED, delivery_id, at, by, live_events.also_locked(connection)
    )
    if row is None:
        return None
    live_events.locks_taken(connection, row["feed_locks"])
    return _delivery(row)


# The delivery's hospital, and those of $4 (``also_locked``).
_ITS_HOSPITAL = "array_prepend((SELECT hospital FROM delivery WHERE id = $1), $4::text[])"
# The lock's CTE is the UPDATE's one row to join: taken before any row is updated.
_MARK_ACKNOWLEDGED = f"""
    WITH locked AS (
        SELECT count(pg_advisory_xact_lock(feed)) AS feed_locks
        FROM {live_events.feeds_in_order(_ITS_HOSPITAL)}
    )
    UPDATE delivery SET acknowledged_at = $2, acknowledged_by = $3
    FROM locked
    WHERE id = $1 AND acknowledged_at IS NULL
    RETURNING delivery.*, locked.feed_locks
    """


async def reschedule(
    connection: Connection, *, delivery_id: str, delay_s: float, reason: str
) -> None:
    await connection.execute(
        """
        UPDATE delivery SET next_attempt_at = now() + make_interval(secs => $2),
                            lease_until = NULL, last_error = $3
        WHERE id = $1 AND status = 'pending'
        """,
        delivery_id,
        delay_s,
        reason,
    )


def _delivery(row: asyncpg.Record) -> Delivery:
    return Delivery(
        id=row["id"],
        request_id=row["request_id"],
        referral_id=row["referral_id"],
        recipient=row["recipient"],
        channel=Channel(row["channel"]),
        priority=row["priority"],
        body=row["body"],
        attempts=row["attempts"],
        trace_context=row["trace_context"],
        address=row["address"],
        escalation_step=row["escalation_step"],
        addressed_to=row["addressed_to"],
        hospital=row["hospital"],
        role=row["role"],
    )


async def get_delivery(connection: Connection, *, delivery_id: str) -> Delivery | None:
    row = await connection.fetchrow("SELECT * FROM delivery WHERE id = $1", delivery_id)
    return _delivery(row) if row is not None else None


async def replay(
    connection: Connection, *, delivery_id: str, trace_context: dict[str, str]
) -> bool:
    """Puts a failed delivery back in the queue (same id, so the receiver can de-duplicate);
    its sending goes on in ``trace_context`` (the replay's own trace)."""
    status: str = await connection.execute(
        """
        UPDATE delivery SET status = 'pending', attempts = 0, next_attempt_at = now(),
                            lease_until = NULL, trace_context = $2
        WHERE id = $1 AND status = 'failed'
        """,
        delivery_id,
        trace_context,
    )
    return status.endswith(" 1")


# Alerts sent to people that nobody acknowledged or escalated yet, and that the notifier
# escalates (not those whose sender runs its own ladder).
_UNANSWERED_ALERT = """
    status = 'sent' AND acknowledged_at IS NULL AND escalated_at IS NULL
    AND channel NOT IN ('webhook', 'in-app')
    AND (body ->> 'needs_ack')::boolean
    -- a delivery stored before "escalates" existed is escalated, as it was then
    AND coalesce((body ->> 'escalates')::boolean, true)
"""


async def unacknowledged_alerts(
    connection: Connection, *, sent_before: datetime, limit: int = 100
) -> list[Delivery]:
    """Alerts sent to people before ``sent_before`` that nobody acknowledged or escalated yet,
    and that the notifier escalates (not those whose sender runs its own ladder)."""
    rows = await connection.fetch(
        f"""
        SELECT * FROM delivery WHERE {_UNANSWERED_ALERT} AND sent_at < $1
        ORDER BY sent_at LIMIT $2 FOR UPDATE SKIP LOCKED
        """,
        sent_before,
        limit,
    )
    return [_delivery(row) for row in rows]


async def earliest_unanswered_alert(connection: Connection) -> float | None:
    """When the earliest alert ``unacknowledged_alerts`` can return was sent (epoch seconds;
    None: none waits for an acknowledgement)."""
    value = await connection.fetchval(
        f"SELECT extract(epoch FROM min(sent_at)) FROM delivery WHERE {_UNANSWERED_ALERT}"
    )
    return None if value is None else float(value)


async def open_alerts(connection: Connection, *, referral_id: str, hospital: str) -> list[Delivery]:
    """The hospital's alerts about a referral that still wait for someone to acknowledge them
    (sent or not yet), oldest first."""
    rows = await connection.fetch(
        """
        SELECT * FROM delivery
        WHERE referral_id = $1 AND hospital = $2 AND acknowledged_at IS NULL
          AND (body ->> 'needs_ack')::boolean
        ORDER BY created_at, id
        """,
        referral_id,
        hospital,
    )
    return [_delivery(row) for row in rows]


async def chain_acknowledged(connection: Connection, *, delivery: Delivery) -> bool:
    """Whether anyone acknowledged this alert for whom it was addressed to: on any delivery of
    its escalation chain, or its live event on the hospital's web page."""
    value = await connection.fetchval(
        """
        SELECT 1 FROM delivery
        WHERE split_part(request_id, '#', 1) = split_part($1, '#', 1) AND addressed_to = $2
          AND acknowledged_at IS NOT NULL LIMIT 1
        """,
        delivery.request_id,
        delivery.addressed_to,
    )
    return value is not None


async def mark_escalated(connection: Connection, *, delivery_id: str) -> None:
    await connection.execute("UPDATE delivery SET escalated_at = now() WHERE id = $1", delivery_id)
