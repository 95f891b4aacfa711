"""The notifier's dispatcher with a backlog: never more sends at once than it may run, and never
a delivery leased that it cannot start now (its lease would run out while it waits)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from opentelemetry import trace

from services.notifier.adapters import repository
from services.notifier.domain.contacts import ContactBook
from services.notifier.domain.model import Channel, Delivery, RetryPolicy
from services.notifier.workers.dispatcher import DeliveryDispatcher
from tests.support import eventually

BACKLOG = 60
MAX_IN_FLIGHT = 4


class _Connection:
    def transaction(self) -> contextlib.AbstractAsyncContextManager[None]:
        return contextlib.nullcontext()


class _Pool:
    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[_Connection]:
        yield _Connection()


class _SlowChannel:
    """A channel whose sends take a while: counts how many run at once."""

    def __init__(self) -> None:
        self.running = 0
        self.most_at_once = 0
        self.sent: list[str] = []

    async def send(self, delivery: Delivery) -> None:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        await asyncio.sleep(0.01)
        self.running -= 1
        self.sent.append(delivery.id)


def _delivery(n: int) -> Delivery:
    return Delivery(
        id=f"delivery-{n}",
        request_id=f"request-{n}",
        referral_id="ref-1",
        recipient="Organization/trang-hospital",
        channel=Channel.WEBHOOK,
        priority="stat",
        body={"text": "stroke alert"},
        attempts=1,
    )


async def test_a_backlog_is_sent_at_most_max_in_flight_at_once_and_claimed_only_as_slots_free(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backlog = [_delivery(n) for n in range(BACKLOG)]
    claims: list[tuple[int, int]] = []  # (limit asked, sends running at the claim)
    channel = _SlowChannel()

    async def claim_due(_: Any, *, limit: int, lease_s: float) -> list[Delivery]:
        claims.append((limit, channel.running))
        taken = backlog[:limit]
        del backlog[:limit]
        return taken

    async def mark_all_sent_and_tell(*_: Any, **__: Any) -> int:
        return 0  # as if another sender had recorded it: no outcome event to write

    monkeypatch.setattr(repository, "claim_due", claim_due)
    monkeypatch.setattr(repository, "mark_all_sent_and_tell", mark_all_sent_and_tell)
    dispatcher = DeliveryDispatcher(
        pool=_Pool(),  # type: ignore[arg-type]
        channels={Channel.WEBHOOK: channel},
        contacts=ContactBook(),
        retry_policy=RetryPolicy(max_attempts=3, base_s=0.1, cap_s=1),
        tracer=trace.get_tracer("test"),
        source_endpoint="urn:test",
        lease_s=30,
        poll_interval_s=0.05,
        send_timeout_s=5,
        batch_size=50,
        max_in_flight=MAX_IN_FLIGHT,
    )
    dispatcher.start()
    try:

        async def all_sent() -> bool:
            return len(channel.sent) == BACKLOG

        await eventually(all_sent, timeout=30, what="the whole backlog sent")
    finally:
        await dispatcher.stop()
    assert channel.most_at_once <= MAX_IN_FLIGHT
    assert all(limit + running <= MAX_IN_FLIGHT for limit, running in claims), claims
    assert sorted(channel.sent) == sorted(f"delivery-{n}" for n in range(BACKLOG))


# (when the next pending delivery is due, in seconds; None: nothing pending) -> the claims an
# idle dispatcher (poll interval 0.05 s, idle wait 30 s) makes in half a second.
IDLE = [("nothing pending", None), ("a retry due in a minute", 60.0)]


@pytest.mark.parametrize(("what", "due_in"), IDLE, ids=[what for what, _ in IDLE])
async def test_an_idle_dispatcher_looks_once_until_woken_not_every_poll_interval(
    monkeypatch: pytest.MonkeyPatch, what: str, due_in: float | None
) -> None:
    claims: list[int] = []

    async def claim_due(_: Any, *, limit: int, lease_s: float) -> list[Delivery]:
        claims.append(limit)
        return []

    async def seconds_until_due(_: Any) -> float | None:
        return due_in

    monkeypatch.setattr(repository, "claim_due", claim_due)
    monkeypatch.setattr(repository, "seconds_until_due", seconds_until_due)
    dispatcher = DeliveryDispatcher(
        pool=_Pool(),  # type: ignore[arg-type]
        channels={},
        contacts=ContactBook(),
        retry_policy=RetryPolicy(max_attempts=3, base_s=0.1, cap_s=1),
        tracer=trace.get_tracer("test"),
        source_endpoint="urn:test",
        lease_s=30,
        poll_interval_s=0.05,
        send_timeout_s=5,
        idle_wait_s=30,
    )
    dispatcher.start()
    try:
        await asyncio.sleep(0.5)  # ten poll intervals
        idle_claims = len(claims)
        dispatcher.wake()  # a new delivery of this process
        await eventually(lambda: _above(claims, idle_claims), what="a claim when woken")
    finally:
        await dispatcher.stop()

    assert idle_claims == 1


async def _above(claims: list[int], count: int) -> bool:
    return len(claims) > count
