"""Transactional outbox: an event is a row written in the same transaction as the state change.

``add_to_outbox`` is called inside the handler's transaction: one INSERT, no lock. The relay
(shared/messaging/outbox_relay.py) publishes the rows in the order they were written and numbers
each key's events as it publishes them. Hand-written because the outbox libraries for FastStream
do not keep per-key order and trace context together; it is small.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from shared.db.pool import Connection
from shared.fhir.envelope import FhirMessage
from shared.messaging.topics import Topic
from shared.tracing import ReferralIds, stored_trace_context

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboxEvent:
    topic: Topic
    key: str
    message: FhirMessage


# Text arrays only: asyncpg knows text[] without asking the server, while a bytea[] or jsonb[]
# parameter costs type-introspection round trips on every new connection. The payload is the
# message's JSON (UTF-8) and goes back to bytes in the statement.
def outbox_insert(
    first_parameter: int = 1, *, only_if: str | None = None, each_only_if: str | None = None
) -> str:
    """The INSERT of ``outbox_parameters``'s six arrays, passed from ``$first_parameter`` on:
    a statement of its own, or one part of a caller's statement (a CTE beside the state change
    it reports, so the two need no transaction). ``only_if``: a CTE of that statement; the
    events are written only when it returned a row (the change happened). ``each_only_if``:
    a CTE returning ``id``s; a seventh array ($first_parameter + 6) names one per event, and
    an event is written only if its id is among them (the change it reports happened), in
    the events' order."""
    if each_only_if:
        arrays = ", ".join(f"${first_parameter + n}::text[]" for n in range(7))
        return f"""
INSERT INTO outbox (message_id, topic, message_key, event_code, payload, trace_context)
SELECT message_id, topic, message_key, event_code, convert_to(payload, 'UTF8'),
       trace_context::jsonb
FROM unnest({arrays}) WITH ORDINALITY
    AS event (message_id, topic, message_key, event_code, payload, trace_context, about, n)
WHERE about IN (SELECT id FROM {each_only_if})
ORDER BY n
"""  # noqa: S608
    arrays = ", ".join(f"${first_parameter + n}::text[]" for n in range(6))
    condition = f"WHERE EXISTS (SELECT FROM {only_if})" if only_if else ""
    # Built from numbers and a name in the caller's own SQL, never from input.
    return f"""
INSERT INTO outbox (message_id, topic, message_key, event_code, payload, trace_context)
SELECT message_id, topic, message_key, event_code, convert_to(payload, 'UTF8'),
       trace_context::jsonb
FROM unnest({arrays})
    AS event (message_id, topic, message_key, event_code, payload, trace_context)
{condition}
"""  # noqa: S608


_INSERT = outbox_insert()


async def add_to_outbox(
    connection: Connection, *, topic: Topic, key: str, message: FhirMessage
) -> None:
    """Queues ``message`` for publication; must run inside the caller's transaction."""
    await add_all_to_outbox(connection, [OutboxEvent(topic=topic, key=key, message=message)])


async def add_all_to_outbox(connection: Connection, events: Sequence[OutboxEvent]) -> None:
    """Queues ``events`` in their order, in one statement (one round trip, one wake-up of the
    relay); must run inside the caller's transaction."""
    if not events:
        return
    await connection.execute(_INSERT, *outbox_parameters(events))
    # The table's trigger wakes the relay after the commit (shared/messaging/outbox_leader.py).


def outbox_parameters(events: Sequence[OutboxEvent]) -> tuple[list[str], ...]:
    """The six arrays ``outbox_insert`` writes ``events`` from, in their order."""
    columns: tuple[list[str], ...] = ([], [], [], [], [], [])
    for event in events:
        message = event.message
        # The key is the referral's id: the publication and whatever follows carry it (and the
        # hospitals the message goes between) in the stored baggage.
        ids = ReferralIds.of(event.key, (message.sender, *message.destinations))
        trace_context = stored_trace_context(ids)
        for column, value in zip(
            columns,
            (
                message.message_id,
                event.topic.name,
                event.key,
                message.event.value,
                message.to_json().decode(),
                json.dumps(trace_context),
            ),
            strict=True,
        ):
            column.append(value)
    return columns
