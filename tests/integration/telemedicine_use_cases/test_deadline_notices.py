"""A consult's deadline NOTIFYs the escalation watcher only when the watcher could miss it: it
re-checks the earliest deadline at least every ``recheck_s`` (a minute) on its own, so a deadline
further away than that (and a margin) is found by the re-check in time, and a NOTIFY for it would
only wake every listening backend of the database (and take the cluster's NOTIFY lock, unless the
commit notifies anyway). A consult's first rung has five minutes (``backup_after``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg

from services.telemedicine.service import consult_opening
from services.telemedicine.workers.escalation import DEADLINE_CHANNEL, ConsultEscalation
from tests.integration.telemedicine_use_cases.support import CONTEXT
from tests.integration.telemedicine_use_cases.test_first_page import (
    _referral_asking_a_teleconsult,
)
from tests.support import eventually

# Migration 0017: deadlines at least this far from the writing statement notify nobody.
NOTIFY_WITHIN_S = 90


async def _deadline_notices(pool: asyncpg.Pool, backup_after: timedelta) -> list[str]:
    """The consult-deadline notifications the opening of one consult sends (its payloads)."""
    schema: str = await pool.fetchval("SELECT current_schema()")
    channels = [DEADLINE_CHANNEL + schema, f"deadline_test_done_{schema}"]
    heard: list[tuple[str, str]] = []

    def hear(_connection: object, _pid: int, channel: str, payload: object) -> None:
        heard.append((channel, str(payload)))

    context = replace(CONTEXT, ladder=replace(CONTEXT.ladder, backup_after=backup_after))
    message, _ = _referral_asking_a_teleconsult()
    async with pool.acquire() as listener, pool.acquire() as writer:
        for channel in channels:
            await listener.add_listener(channel, hear)
        async with writer.transaction():
            consult = await consult_opening.open_consult_if_requested(
                writer, message, context=context, now=datetime.now(UTC)
            )
        assert consult is not None
        assert consult.next_deadline is not None
        # A connection's notifications come in commit order: this one marks the end.
        await writer.execute(f"NOTIFY {channels[1]}")

        async def ended() -> bool:
            return (channels[1], "") in heard

        await eventually(ended, what="the end of the test's notifications")
        for channel in channels:
            await listener.remove_listener(channel, hear)
    return [payload for channel, payload in heard if channel == channels[0]]


async def test_a_consults_first_deadline_five_minutes_away_notifies_nobody(
    telemedicine_pool: asyncpg.Pool,
) -> None:
    # Was one: the consult's commit notified its own relay and this, and every listening backend
    # read both. The watcher's re-check (at most a minute away) finds the deadline in time.
    assert await _deadline_notices(telemedicine_pool, timedelta(minutes=5)) == []


async def test_a_deadline_sooner_than_the_watchers_recheck_still_wakes_it(
    telemedicine_pool: asyncpg.Pool,
) -> None:
    before = datetime.now(UTC).timestamp()
    payloads = await _deadline_notices(telemedicine_pool, timedelta(seconds=30))
    assert len(payloads) == 1
    assert before < float(payloads[0]) < before + NOTIFY_WITHIN_S


def test_the_watchers_recheck_leaves_a_margin_within_the_notified_horizon() -> None:
    # A deadline not notified is found by the first round after its commit: rounds start at
    # most recheck_s apart; the margin covers the writing transaction and a round's own time.
    escalation = ConsultEscalation(pool=None, context=CONTEXT, retry_s=5)  # type: ignore[arg-type]
    assert escalation.recheck_s + 30 <= NOTIFY_WITHIN_S
