"""Index entries a sent delivery costs PostgreSQL (migration 0015): the index of alerts awaiting
an acknowledgement holds only what the escalation watcher reads, not a webhook's or an in-app
page's delivery (never escalated); an SMS alert is still in it."""

from __future__ import annotations

import asyncpg
import pytest

from shared.db.pool import Connection
from tests.wal_index_entries import index_entries, index_files, wal_position

pytestmark = pytest.mark.integration


async def _sent_delivery_entries(
    connection: Connection, pool: asyncpg.Pool, files: set[str], channel: str
) -> int:
    before = await wal_position(connection)
    await connection.execute(
        """
        INSERT INTO delivery (id, request_id, referral_id, recipient, channel, priority, body,
                              status, sent_at)
        VALUES ($1, 'request-1', 'referral-1', 'recipient-1', $2, 'high',
                '{"needs_ack": true}'::jsonb, 'sent', now())
        """,
        f"delivery-{channel}",
        channel,
    )
    after = await wal_position(connection)
    return await index_entries(connection, files, before, after, flusher=pool)


async def test_only_an_escalated_channels_sent_delivery_awaits_its_acknowledgement_in_the_index(
    connection: Connection, notifier_pool: asyncpg.Pool
) -> None:
    files = await index_files(connection, "delivery")
    # Its id, its request's (request, recipient, channel) and its referral; an SMS alert also
    # in the index of sent alerts awaiting an acknowledgement (all three were: 4 before).
    assert await _sent_delivery_entries(connection, notifier_pool, files, "webhook") == 3
    assert await _sent_delivery_entries(connection, notifier_pool, files, "in-app") == 3
    assert await _sent_delivery_entries(connection, notifier_pool, files, "sms") == 4
