"""SQL for deliveries (schema ``notifier``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import asyncpg
import orjson
from opentelemetry.instrumentation.utils import suppress_instrumentation

from services.notifier.adapters import live_events
from services.notifier.adapters.in_app import NOTIFICATION
from services.notifier.adapters.live_events import ShownEvent
from services.notifier.domain.model import Channel, Delivery
from shared.db.pool import Connection
from shared.messaging.inbox import INBOX_OUTCOME, Claim, InboxEntry, inbox_claim, outcome_of
from shared.messaging.outbox import OutboxEvent, outbox_insert, outbox_parameters


async def insert_delivery(connection: Connection, *, delivery: Delivery) -> bool:
    status: str = await connection.execute(
        """
        INSERT INTO delivery (id, request_id, referral_id, recipient, channel, priority, body,
                              trace_context, address, escalation_step, addressed_to, hospital,
                              role)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
        ON CONFLICT DO NOTHING
        """,
        *_delivery_values(delivery),
    )
    return status.endswith(" 1")


async def insert_deliveries(
    connection: Connection,
    *,
    deliveries: list[Delivery],
    hospitals: Iterable[str] = (),
    shown: list[ShownEvent] | None = None,
) -> int:
    """``insert_delivery`` for the deliveries of one request (all about one referral), and the
    ``hospitals`` that take part in that referral remembered (operator_access.py: who may read
    its delivery log), in one statement; returns how many deliveries were new. ``shown``: the
    live events of its in-app deliveries, published on their hospitals' pages by the same
    statement, those deliveries written sent (a write to our own database is their sending)."""
    if not deliveries:
        return 0
    inserted: int = await connection.fetchval(
        _INSERT_DELIVERIES, *_deliveries_parameters(deliveries, hospitals, shown or [])
    )
    return inserted


async def insert_claimed_deliveries(
    connection: Connection,
    *,
    deliveries: list[Delivery],
    hospitals: Iterable[str],
    inbox: InboxEntry,
    shown: list[ShownEvent] | None = None,
    leased: Iterable[str] = (),
    lease_s: float = 0.0,
) -> tuple[Claim | None, set[str], int]:
    """``insert_deliveries`` (at least one) with the message that asks for them recorded in the
    inbox by the same statement, its one round trip (no transaction): what the claim found
    (``outcome_of``), which of the ``leased`` deliveries it wrote leased to this sender for
    ``lease_s`` (as ``claim_due`` leases them: its first attempt), and how many of the
    ``shown`` live events it published. A message seen before writes nothing."""
    row = await connection.fetchrow(
        _INSERT_CLAIMED_DELIVERIES,
        *_deliveries_parameters(deliveries, hospitals, shown or []),
        list(leased),
        lease_s,
        *inbox.parameters,
    )
    if row is None:
        raise RuntimeError("the deliveries' INSERT returned no row")
    return outcome_of(row, inbox), set(row["leased"]), row["shown"]


def _insert_deliveries(*, claimed: bool) -> str:
    """``insert_deliveries``'s statement; ``claimed``: with the message recorded in the inbox
    ($22 to $26), the deliveries, hospitals and live events written only if it was not seen
    before, and the deliveries named by $20 leased for $21 seconds. The live events shown with
    the deliveries: $15 to $19 (``published_with``)."""
    claim = f"{inbox_claim(22)}," if claimed else ""
    leased = "id = ANY($20::text[])" if claimed else "false"
    lease_until = "now() + make_interval(secs => $21)" if claimed else "NULL::timestamptz"
    if_claimed = "WHERE EXISTS (SELECT FROM inbox_claimed)" if claimed else ""
    outcome = f", {INBOX_OUTCOME}" if claimed else ""
    shown = live_events.published_with(15, written="inserted", only_if=if_claimed)
    # Built from constant fragments, never from input.
    return f"""
        WITH {claim} inserted AS (
            INSERT INTO delivery (id, request_id, referral_id, recipient, channel, priority,
                                  body, trace_context, address, escalation_step, addressed_to,
                                  hospital, role, status, sent_at, attempts, lease_until)
            SELECT id, request_id, referral_id, recipient, channel, priority, body::jsonb,
                   trace_context::jsonb, address, escalation_step, addressed_to, hospital, role,
                   CASE WHEN shown THEN 'sent' ELSE 'pending' END,
                   CASE WHEN shown THEN now() END,
                   CASE WHEN shown OR leased THEN 1 ELSE 0 END,
                   CASE WHEN leased THEN {lease_until} END
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                        $7::text[], $8::text[], $9::text[], $10::integer[], $11::text[],
                        $12::text[], $13::text[])
                AS incoming (id, request_id, referral_id, recipient, channel, priority, body,
                             trace_context, address, escalation_step, addressed_to, hospital,
                             role),
                LATERAL (SELECT id = ANY($15::text[]) AS shown, {leased} AS leased) AS how
            {if_claimed}
            ON CONFLICT DO NOTHING
            RETURNING id, lease_until IS NOT NULL AS leased
        ), taking_part AS (
            INSERT INTO referral_hospital (referral_id, hospital)
            SELECT $3[1], hospital FROM unnest($14::text[]) AS hospital
            {if_claimed}
            ON CONFLICT DO NOTHING
        ), {shown}
        SELECT (SELECT count(*) FROM inserted) AS inserted,
               (SELECT count(*) FROM live_notified) AS hospitals_told,
               ARRAY(SELECT id FROM inserted WHERE leased) AS leased,
               (SELECT count(*) FROM live_published) AS shown{outcome}
        """


_INSERT_DELIVERIES = _insert_deliveries(claimed=False)
_INSERT_CLAIMED_DELIVERIES = _insert_deliveries(claimed=True)


def _deliveries_parameters(
    deliveries: list[Delivery], hospitals: Iterable[str], shown: list[ShownEvent]
) -> tuple[object, ...]:
    """$1 to $14: the deliveries column by column, then the hospitals taking part; $15 to $19:
    the live events shown with them."""
    columns = [
        list(column)
        for column in zip(*(_delivery_values(delivery) for delivery in deliveries), strict=True)
    ]
    # The two JSON columns travel as text (cast in the statement): a jsonb[] parameter costs
    # asyncpg a type-introspection round trip on every new connection, text[] none. Written by
    # orjson: jsonb keeps the same value whatever the text's spacing.
    for json_column in (6, 7):
        columns[json_column] = [orjson.dumps(value).decode() for value in columns[json_column]]
    return (
        *columns,
        sorted(set(hospitals)),
        *live_events.shown_parameters(shown, kind=NOTIFICATION),
    )


def _delivery_values(delivery: Delivery) -> tuple[object, ...]:
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


_MARK_SENT_AND_TELL = f"""
WITH sent AS (
    UPDATE delivery SET status = 'sent', sent_at = now(), lease_until = NULL
    WHERE id = $1 AND status = 'pending'
    RETURNING id
), told AS ({outbox_insert(2, only_if="sent")})
SELECT count(*) FROM sent
"""


async def mark_sent_and_tell(
    connection: Connection, *, delivery_id: str, outcome: OutboxEvent
) -> bool:
    """``mark_sent`` and, only if this marked it, ``outcome`` queued in the outbox: one
    statement, so it needs no transaction. False when another sender had finished it."""
    marked: int = await connection.fetchval(
        _MARK_SENT_AND_TELL, delivery_id, *outbox_parameters([outcome])
    )
    return marked == 1


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
    one, or is unknown."""
    row = await connection.fetchrow(
        """
        UPDATE delivery SET acknowledged_at = $2, acknowledged_by = $3
        WHERE id = $1 AND acknowledged_at IS NULL
        RETURNING *
        """,
        delivery_id,
        at,
        by,
    )
    return _delivery(row) if row is not None else None


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
