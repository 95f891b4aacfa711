"""Index entries a referral's timeline entry costs PostgreSQL: when it is written and when the
page feed's stamper numbers it (migration 0017). A waiting entry's NULL feed position was an
entry in the positions' unique index that nothing reads; the waiting entries are found through
their own partial index."""

from __future__ import annotations

import asyncpg
import pytest

from services.referral.adapters import page_events
from services.referral.service.intake import request_referral
from shared.db.pool import Connection
from tests.integration.use_cases.support import CONTEXT, referral_request
from tests.wal_index_entries import index_entries, index_files, wal_position

pytestmark = pytest.mark.integration


async def test_a_waiting_timeline_entry_is_not_in_the_feed_positions_index(
    connection: Connection, referral_pool: asyncpg.Pool
) -> None:
    schema: str = await connection.fetchval("SELECT current_schema()")
    await page_events.stamp_committed(connection, schema=schema)
    files = await index_files(connection, "timeline_entry")

    before_intake = await wal_position(connection)
    referral_id = await request_referral(connection, request=referral_request(), context=CONTEXT)
    after_intake = await wal_position(connection)
    stamped = await page_events.stamp_committed(connection, schema=schema)
    after_stamp = await wal_position(connection)

    entries = await connection.fetchval(
        "SELECT count(*) FROM timeline_entry WHERE referral_id = $1", referral_id
    )
    assert entries >= 1
    assert stamped == entries
    written = await index_entries(
        connection, files, before_intake, after_intake, flusher=referral_pool
    )
    numbered = await index_entries(
        connection, files, after_intake, after_stamp, flusher=referral_pool
    )
    # Its id, its referral and the waiting entries' index (and its NULL position: 4 before).
    assert written == entries * 3, (written, entries)
    # The numbered version under its id, its referral and its position.
    assert numbered == entries * 3, (numbered, entries)
