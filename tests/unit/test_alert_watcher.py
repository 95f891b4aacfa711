"""The time-critical alert watcher: each referral's alerts in their own transaction, so one
referral whose alerts cannot be raised (bad data, a bug) never stops the others' alerts."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
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


async def test_a_referral_whose_alerts_fail_does_not_stop_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def in_reach(connection: Any, *, now: datetime) -> list[str]:
        return ["broken", "second", "third"]

    async def raise_due(
        connection: Any, *, referral_id: str, context: ReferralContext, now: datetime
    ) -> int:
        if referral_id == "broken":
            raise ValueError("a referral whose clock cannot be read")
        return 2

    monkeypatch.setattr(alerts, "referrals_with_alerts_in_reach", in_reach)
    monkeypatch.setattr(alerts, "raise_due_alerts_of", raise_due)
    pool = _Pool()
    watcher = AlertWatcher(
        pool=cast(asyncpg.Pool, pool),
        context=ReferralContext(source_endpoint="test", public_url="http://test"),
        poll_interval_s=1,
    )

    assert await watcher.sweep() == 4
    assert pool.transactions == ["begin", "rollback", "begin", "commit", "begin", "commit"]
