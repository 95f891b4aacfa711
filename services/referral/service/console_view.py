"""The operators' console's views of the referrals: the live board (each hop's time, latency
and trace) and the stuck ones (domain/console.py says what stuck means)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.referral.adapters import console_queries
from services.referral.domain.console import ReferralFlow, flow_of
from shared.db.pool import Connection

BOARD_SIZE = 50
# Open referrals looked at for the stuck list (the newest first).
OPEN_LOOKED_AT = 500


@dataclass(frozen=True)
class ConsoleBoard:
    flows: list[ReferralFlow]
    stuck: list[ReferralFlow]


async def console_board(
    connection: Connection,
    *,
    now: datetime,
    stuck_after: timedelta,
    referral_id: str | None = None,
    hospital: str | None = None,
) -> ConsoleBoard:
    """The newest referrals (or the one asked for, or one hospital's) and every stuck one."""
    newest = await console_queries.referral_progress(
        connection, limit=BOARD_SIZE, referral_id=referral_id, hospital=hospital
    )
    still_open = await console_queries.referral_progress(
        connection,
        limit=OPEN_LOOKED_AT,
        referral_id=referral_id,
        hospital=hospital,
        only_open=True,
    )
    stuck = [
        flow
        for flow in (flow_of(p, now=now, stuck_after=stuck_after) for p in still_open)
        if flow.stuck
    ]
    stuck.sort(key=lambda flow: flow.last_progress)
    return ConsoleBoard(
        flows=[flow_of(p, now=now, stuck_after=stuck_after) for p in newest], stuck=stuck
    )
