"""The time-critical alert watcher: each referral's alerts in their own transaction, so one
referral whose alerts cannot be raised (bad data, a bug) never stops the others' alerts."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any, cast

import asyncpg
import pytest

from services.referral.service import alerts
from services.referral.service.context import ReferralContext
from services.referral.workers.alerts import AlertWatcher


class _Connection:
    def __init__(self, transactions: list[str]) -> None:
        self.transactions = transactions

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        self.transactions.append("begin")
        try:
            yield
        except Exception:
            self.transactions.append("rollback")
            raise
        self.transactions.append("commit")


class _Pool:
    def __init__(self) -> None:
        self.transactions: list[str] = []

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[_Connection]:
        yield _Connection(self.transactions)


def _watcher(pool: _Pool) -> AlertWatcher:
    return AlertWatcher(
        pool=cast(asyncpg.Pool, pool),
        context=ReferralContext(source_endpoint="test", public_url="http://test"),
        retry_s=1,
    )


async def test_a_referral_whose_alerts_fail_does_not_stop_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def in_reach(connection: Any, *, now: datetime) -> list[tuple[str, str]]:
        return [("broken", "v1"), ("second", "v1"), ("third", "v1")]

    async def examine(
        connection: Any, *, referral_id: str, context: ReferralContext, now: datetime
    ) -> tuple[int, datetime | None]:
        if referral_id == "broken":
            raise ValueError("a referral whose clock cannot be read")
        return 2, None

    monkeypatch.setattr(alerts, "referrals_in_reach_with_versions", in_reach)
    monkeypatch.setattr(alerts, "examine_alerts_of", examine)
    pool = _Pool()

    assert await _watcher(pool).sweep() == 4
    assert pool.transactions == ["begin", "rollback", "begin", "commit", "begin", "commit"]


# (what happened since the last sweep, whether the referral is examined again)
SINCE_THE_LAST_SWEEP = [
    ("nothing, its next alert an hour away", "v1", timedelta(hours=1), False),
    ("its clock or timeline changed", "v2", timedelta(hours=1), True),
    ("nothing, but its next alert is due", "v1", timedelta(seconds=-1), True),
    ("nothing, and no alert to come: looked at again after a while", "v1", None, False),
]


@pytest.mark.parametrize(
    ("what", "version", "next_due_in", "examined"),
    SINCE_THE_LAST_SWEEP,
    ids=[case[0] for case in SINCE_THE_LAST_SWEEP],
)
async def test_a_referral_is_examined_again_only_when_something_may_be_due(
    monkeypatch: pytest.MonkeyPatch,
    what: str,
    version: str,
    next_due_in: timedelta | None,
    examined: bool,
) -> None:
    versions = iter(["v1", version])
    looked_at: list[str] = []

    async def in_reach(connection: Any, *, now: datetime) -> list[tuple[str, str]]:
        return [("in-window", next(versions))]

    async def examine(
        connection: Any, *, referral_id: str, context: ReferralContext, now: datetime
    ) -> tuple[int, datetime | None]:
        looked_at.append(referral_id)
        return 0, None if next_due_in is None else now + next_due_in

    monkeypatch.setattr(alerts, "referrals_in_reach_with_versions", in_reach)
    monkeypatch.setattr(alerts, "examine_alerts_of", examine)
    watcher = _watcher(_Pool())
    await watcher.sweep()

    await watcher.sweep()

    assert looked_at == ["in-window"] * (2 if examined else 1)


async def test_a_referral_nothing_happens_to_is_looked_at_again_after_look_again_s(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    looked_at: list[datetime] = []

    async def in_reach(connection: Any, *, now: datetime) -> list[tuple[str, str]]:
        return [("in-window", "v1")]

    async def examine(
        connection: Any, *, referral_id: str, context: ReferralContext, now: datetime
    ) -> tuple[int, datetime | None]:
        looked_at.append(now)
        return 0, None

    monkeypatch.setattr(alerts, "referrals_in_reach_with_versions", in_reach)
    monkeypatch.setattr(alerts, "examine_alerts_of", examine)
    watcher = _watcher(_Pool())
    watcher.look_again_s = 0  # every sweep is "after a while"
    await watcher.sweep()

    await watcher.sweep()

    assert len(looked_at) == 2
