"""Inbox: the consumed message id is recorded in the same transaction as the message's effect."""

from __future__ import annotations

from shared.db.pool import Connection


async def claim_message(
    connection: Connection, *, message_id: str, topic: str, event_code: str
) -> bool:
    """True the first time a message id is seen; False for a redelivery (skip its effect)."""
    status: str = await connection.execute(
        """
        INSERT INTO inbox (message_id, topic, event_code) VALUES ($1, $2, $3)
        ON CONFLICT (message_id) DO NOTHING
        """,
        message_id,
        topic,
        event_code,
    )
    return status.endswith(" 1")
