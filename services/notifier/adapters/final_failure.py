"""SQL of a notification request's final failure (schema ``notifier``): whether the request,
its escalations included, may still reach anyone, and the lock on the request its deliveries
that fail at once take turns on, so that the last of them tells the final failure once."""

from __future__ import annotations

from services.notifier.domain.model import Channel
from shared.db.pool import Connection

# A request's deliveries that fail at once take turns telling whether anybody is left to reach
# (the request's final failure is told by the last of them, once): a transaction-scoped lock on
# the request, taken before the delivery is marked failed.
_LOCK_REQUEST = """
    SELECT pg_advisory_xact_lock(hashtextextended('notification-request:' || $1, 0))
"""


async def lock_request(connection: Connection, *, request_id: str) -> None:
    """Holds the request ``request_id`` (its ``#esc<n>`` removed) until the transaction ends."""
    await connection.execute(_LOCK_REQUEST, request_id)


async def lock_request_of(connection: Connection, *, delivery_id: str) -> None:
    """``lock_request`` for the request of the delivery ``delivery_id`` (if it exists)."""
    await connection.execute(
        """
        SELECT pg_advisory_xact_lock(
                   hashtextextended('notification-request:' || split_part(request_id, '#', 1), 0))
          FROM delivery WHERE id = $1
        """,
        delivery_id,
    )


async def request_reach(
    connection: Connection, *, referral_id: str, request_id: str
) -> tuple[bool, list[str]]:
    """Whether the request (its escalations included) may still reach someone: a delivery on a
    channel to a person or a hospital system that is still pending or was sent (a live event on
    the hospital's pages tells nobody by itself); and whom the request named."""
    row = await connection.fetchrow(
        """
        SELECT coalesce(bool_or(status IN ('pending', 'sent') AND channel <> $3), false)
                   AS reaching,
               array_remove(array_agg(DISTINCT nullif(addressed_to, '')), NULL) AS addressed
          FROM delivery
         WHERE referral_id = $1 AND split_part(request_id, '#', 1) = $2
        """,
        referral_id,
        request_id,
        Channel.IN_APP.value,
    )
    if row is None:
        return False, []
    return bool(row["reaching"]), sorted(row["addressed"] or [])
