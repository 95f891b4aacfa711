"""The alert watcher's statements read the referrals inside an alert window, not every referral
left open: with thousands open and out of every window, a round reads a few pages.

A 13-minute soak of unanswered referrals at 20/s found its round at 350 ms and PostgreSQL's CPU
climbing minute by minute: both statements started from every referral not closed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from asyncpg.connection import LoggedQuery

from services.referral.domain.commands import ClinicalTime, ReportedTime
from services.referral.service.alerts import next_reach_at, referrals_in_reach_with_versions
from services.referral.service.intake import request_referral
from shared.db.pool import Connection
from tests.integration.use_cases.support import CONTEXT, referral_request

OPEN_ELSEWHERE = 5000
# Pages a read of the windows may touch here (index pages and the few rows in reach); reading
# every open referral and its milestones touched several times as many.
MOST_PAGES = 300


async def _referral(
    connection: Connection, *, lkw_before: timedelta, door_before: timedelta
) -> str:
    now = datetime.now(UTC)
    return await request_referral(
        connection,
        request=referral_request(
            last_known_well=now - lkw_before,
            reported_times=(
                ReportedTime(kind=ClinicalTime.DOOR_IN, occurred_at=now - door_before),
            ),
            teleconsult_requested=True,
            accept_by=now + timedelta(days=1),
        ),
        context=CONTEXT,
    )


async def _copies(connection: Connection, referral_id: str, count: int) -> None:
    """``count`` patients like the referral's, each on a clock of its own, with its milestones."""
    await connection.execute(
        """
        INSERT INTO referral
        SELECT (jsonb_populate_record(NULL::referral, to_jsonb(r) || jsonb_build_object(
                    'id', r.id || '-' || g, 'clock_id', r.id || '-' || g,
                    'request_message_id', r.request_message_id || '-' || g))).*
        FROM referral r, generate_series(1, $2) AS g WHERE r.id = $1
        """,
        referral_id,
        count,
    )
    await connection.execute(
        """
        INSERT INTO milestone
        SELECT (jsonb_populate_record(NULL::milestone, to_jsonb(m) || jsonb_build_object(
                    'referral_id', m.referral_id || '-' || g))).*
        FROM milestone m, generate_series(1, $2) AS g WHERE m.referral_id = $1
        """,
        referral_id,
        count,
    )
    await connection.execute("ANALYZE referral; ANALYZE milestone")


async def _pages_read(connection: Connection, call: Callable[[], Awaitable[Any]]) -> int:
    """The shared pages (hit or read) of the one statement ``call`` sends, run again under
    EXPLAIN ANALYZE with the same arguments."""
    sent: list[LoggedQuery] = []
    connection.add_query_logger(sent.append)
    try:
        await call()
        await asyncio.sleep(0)  # asyncpg calls the logger soon after the statement, not in it
    finally:
        connection.remove_query_logger(sent.append)
    (statement,) = sent
    plan = json.loads(
        await connection.fetchval(
            f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {statement.query}", *statement.args
        )
    )[0]["Plan"]
    return int(plan["Shared Hit Blocks"]) + int(plan["Shared Read Blocks"])


async def test_a_watcher_round_reads_the_referrals_in_reach_not_every_open_one(
    connection: Connection,
) -> None:
    # Out of every window: last known well and door-in three days ago, accept-by tomorrow.
    old = await _referral(connection, lkw_before=timedelta(days=3), door_before=timedelta(days=3))
    await _copies(connection, old, OPEN_ELSEWHERE)
    # In the thrombolysis window (3 h 40 min since last known well).
    in_reach = await _referral(
        connection, lkw_before=timedelta(hours=3, minutes=40), door_before=timedelta(hours=3)
    )
    now = datetime.now(UTC)

    found = dict(await referrals_in_reach_with_versions(connection, now=now))
    assert list(found) == [in_reach]

    pages = await _pages_read(
        connection, lambda: referrals_in_reach_with_versions(connection, now=now)
    )
    assert pages < MOST_PAGES, pages
    pages = await _pages_read(connection, lambda: next_reach_at(connection, now=now))
    assert pages < MOST_PAGES, pages
