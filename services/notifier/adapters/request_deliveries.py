"""SQL that records a notification request's deliveries (schema ``notifier``), one statement
per request: the deliveries, the hospitals that may read their log, the live events of its
in-app deliveries, and, for a request claimed in the inbox by the same statement, the
deliveries leased to this process's dispatcher."""

from __future__ import annotations

from collections.abc import Iterable

import orjson

from services.notifier.adapters import live_events
from services.notifier.adapters.in_app import NOTIFICATION
from services.notifier.adapters.live_events import ShownEvent
from services.notifier.adapters.repository import delivery_values
from services.notifier.domain.model import Delivery
from shared.db.pool import Connection
from shared.messaging.inbox import INBOX_OUTCOME, Claim, InboxEntry, inbox_claim, outcome_of


async def insert_deliveries(
    connection: Connection,
    *,
    deliveries: list[Delivery],
    hospitals: Iterable[str] = (),
    shown: list[ShownEvent] | None = None,
) -> tuple[int, int]:
    """``repository.insert_delivery`` for the deliveries of one request (all about one
    referral), and the ``hospitals`` that take part in that referral remembered
    (operator_access.py: who may read its delivery log), in one statement; returns how many
    deliveries were new and how many of the ``shown`` live events it published. ``shown``: the
    live events of its in-app deliveries, published on their hospitals' pages by the same
    statement, those deliveries written sent (a write to our own database is their sending)."""
    if not deliveries:
        return 0, 0
    row = await connection.fetchrow(
        _INSERT_DELIVERIES, *_deliveries_parameters(connection, deliveries, hospitals, shown or [])
    )
    if row is None:
        raise RuntimeError("the deliveries' INSERT returned no row")
    live_events.shown_locked(connection, row["feeds_locked"])
    return row["inserted"], row["shown"]


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
        *_deliveries_parameters(connection, deliveries, hospitals, shown or []),
        list(leased),
        lease_s,
        *inbox.parameters,
    )
    if row is None:
        raise RuntimeError("the deliveries' INSERT returned no row")
    live_events.shown_locked(connection, row["feeds_locked"])
    return outcome_of(row, inbox), set(row["leased"]), row["shown"]


def _insert_deliveries(*, claimed: bool) -> str:
    """``insert_deliveries``'s statement; ``claimed``: with the message recorded in the inbox
    ($23 to $27), the deliveries, hospitals and live events written only if it was not seen
    before, and the deliveries named by $21 leased for $22 seconds. The live events shown with
    the deliveries: $15 to $20 (``published_with``)."""
    claim = f"{inbox_claim(23)}," if claimed else ""
    leased = "id = ANY($21::text[])" if claimed else "false"
    lease_until = "now() + make_interval(secs => $22)" if claimed else "NULL::timestamptz"
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
               (SELECT count(*) FROM live_published) AS shown,
               (SELECT locks FROM live_locked) AS feeds_locked{outcome}
        """


_INSERT_DELIVERIES = _insert_deliveries(claimed=False)
_INSERT_CLAIMED_DELIVERIES = _insert_deliveries(claimed=True)


def _deliveries_parameters(
    connection: Connection,
    deliveries: list[Delivery],
    hospitals: Iterable[str],
    shown: list[ShownEvent],
) -> tuple[object, ...]:
    """$1 to $14: the deliveries column by column, then the hospitals taking part; $15 to $20:
    the live events shown with them."""
    columns = [
        list(column)
        for column in zip(*(delivery_values(delivery) for delivery in deliveries), strict=True)
    ]
    # The two JSON columns travel as text (cast in the statement): a jsonb[] parameter costs
    # asyncpg a type-introspection round trip on every new connection, text[] none. Written by
    # orjson: jsonb keeps the same value whatever the text's spacing.
    for json_column in (6, 7):
        columns[json_column] = [orjson.dumps(value).decode() for value in columns[json_column]]
    return (
        *columns,
        sorted(set(hospitals)),
        *live_events.shown_parameters(connection, shown, kind=NOTIFICATION),
    )
