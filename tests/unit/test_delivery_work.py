"""What choosing how to send a delivery costs the dispatcher, counted: whether a channel is a
stored one (sent and recorded sent in one statement: the in-app feed) is asked once per channel
when the dispatcher is made, not again for every delivery (an ``isinstance`` check against a
runtime-checkable Protocol walks the protocol's attributes each time)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from opentelemetry import trace

from services.notifier.adapters import repository
from services.notifier.domain.contacts import ContactBook
from services.notifier.domain.model import Channel, Delivery, RetryPolicy
from services.notifier.service import dispatch
from services.notifier.workers.dispatcher import DeliveryDispatcher
from tests.support import eventually
from tests.unit.test_dispatcher_bound import _Pool

DELIVERIES = 6


class _Webhook:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, delivery: Delivery) -> None:
        self.sent.append(delivery.id)


class _Feed:
    """A stored channel: sent and recorded sent in one statement."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send_and_mark_sent(self, connection: Any, delivery: Delivery) -> None:
        self.sent.append(delivery.id)

    async def send(self, delivery: Delivery) -> None:
        raise AssertionError("a stored channel is sent with its record, not alone")


def _delivery(n: int) -> Delivery:
    return Delivery(
        id=f"d-{n}",
        request_id=f"req-{n}",
        referral_id="ref-1",
        recipient="Organization/trang-hospital",
        channel=Channel.WEBHOOK if n % 2 else Channel.IN_APP,
        priority="stat",
        body={"text": "stroke alert"},
        hospital="trang-hospital",
        attempts=1,
    )


async def test_whether_a_channel_is_stored_is_asked_once_per_channel_not_per_delivery(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backlog = [_delivery(n) for n in range(DELIVERIES)]

    async def claim_due(_: Any, *, limit: int, lease_s: float) -> list[Delivery]:
        taken = backlog[:limit]
        del backlog[:limit]
        return taken

    async def mark_all_sent_and_tell(*_: Any, **__: Any) -> int:
        return 1

    monkeypatch.setattr(repository, "claim_due", claim_due)
    monkeypatch.setattr(repository, "mark_all_sent_and_tell", mark_all_sent_and_tell)
    asked: list[str] = []
    protocol_meta = type(dispatch.StoredChannel)
    instance_check = protocol_meta.__instancecheck__

    def counted(cls: type, instance: object) -> bool:
        if cls is dispatch.StoredChannel:
            asked.append(type(instance).__name__)
        return bool(instance_check(cls, instance))  # type: ignore[arg-type]

    monkeypatch.setattr(protocol_meta, "__instancecheck__", counted)
    webhook, feed = _Webhook(), _Feed()
    dispatcher = DeliveryDispatcher(
        pool=_Pool(),  # type: ignore[arg-type]
        channels={Channel.WEBHOOK: webhook, Channel.IN_APP: feed},
        contacts=ContactBook(),
        retry_policy=RetryPolicy(max_attempts=3, base_s=0.1, cap_s=1),
        tracer=trace.get_tracer("test"),
        source_endpoint="urn:test",
        lease_s=30,
        poll_interval_s=0.01,
        send_timeout_s=5,
    )
    made = len(asked)
    dispatcher.start()
    try:

        async def all_sent() -> bool:
            return len(webhook.sent) + len(feed.sent) == DELIVERIES

        await eventually(all_sent, timeout=10, what="every delivery sent")
        await asyncio.sleep(0.05)
    finally:
        await dispatcher.stop()
    # Each kind of delivery went its own way: the feed's with its record, the webhook alone.
    assert sorted(feed.sent) == ["d-0", "d-2", "d-4"]
    assert sorted(webhook.sent) == ["d-1", "d-3", "d-5"]
    # None for the deliveries (was one per delivery); once per channel when made.
    assert asked[made:] == []
    assert made == 2
