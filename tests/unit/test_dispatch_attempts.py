"""One send: what each way a channel can answer comes to (sent, tried again later, failed for
good), and which deliveries carry their one-tap acknowledgement link."""

from __future__ import annotations

import asyncio

import pytest

from services.notifier.domain.model import (
    Channel,
    Delivery,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from services.notifier.service.dispatch import Attempt, Outcome, send
from services.notifier.service.links import AcknowledgementLinks

DELIVERY_ID = "0b7c4f2e-5d1a-5c3e-9f60-2a4d8e1b7c90"
LINKS = AcknowledgementLinks(public_url="https://ft.example", secret="s", max_age_s=60)


class _Channel:
    def __init__(self, answer: BaseException | None = None, *, takes_s: float = 0) -> None:
        self.answer = answer
        self.takes_s = takes_s
        self.sent: list[Delivery] = []

    async def send(self, delivery: Delivery) -> None:
        await asyncio.sleep(self.takes_s)
        if self.answer is not None:
            raise self.answer
        self.sent.append(delivery)


def _delivery(channel: Channel = Channel.SMS, *, needs_ack: bool = True) -> Delivery:
    return Delivery(
        id=DELIVERY_ID,
        request_id="m-1/cr-1",
        referral_id="ref-1",
        recipient="Practitioner/dr-anan",
        channel=channel,
        priority="stat",
        body={"text": "Stroke referral", "needs_ack": needs_ack},
        address="0811111111",
    )


# How the channel answers -> what the attempt comes to.
ANSWERS = [
    ("accepted", _Channel(), Attempt(Outcome.SENT)),
    (
        "busy, try in 30 s",
        _Channel(TransientDeliveryError("HTTP 429", retry_after_s=30)),
        Attempt(Outcome.RETRY, "HTTP 429", 30),
    ),
    ("refused", _Channel(PermanentDeliveryError("HTTP 400")), Attempt(Outcome.FAILED, "HTTP 400")),
    ("too slow", _Channel(takes_s=5), Attempt(Outcome.RETRY, "send timed out")),
    ("a bug", _Channel(RuntimeError("boom")), Attempt(Outcome.RETRY, "internal error")),
]


@pytest.mark.parametrize(
    ("channel", "expected"), [a[1:] for a in ANSWERS], ids=[a[0] for a in ANSWERS]
)
async def test_each_answer_of_a_channel_comes_to_its_outcome(
    channel: _Channel, expected: Attempt
) -> None:
    attempt = await send(_delivery(), channels={Channel.SMS: channel}, timeout_s=0.05)
    assert attempt == expected


async def test_a_channel_not_configured_fails_for_good_at_once() -> None:
    attempt = await send(_delivery(Channel.LINE), channels={Channel.SMS: _Channel()}, timeout_s=1)
    assert attempt == Attempt(Outcome.FAILED, "channel line not configured")


@pytest.mark.parametrize(
    ("channel", "needs_ack", "linked"),
    [
        (Channel.SMS, True, True),
        (Channel.IN_APP, True, True),
        (Channel.SMS, False, False),  # informative: nothing to acknowledge
        (Channel.WEBHOOK, True, False),  # a hospital system acknowledges by API
    ],
)
async def test_an_alert_to_a_person_or_a_page_carries_its_acknowledgement_link(
    channel: Channel, needs_ack: bool, linked: bool
) -> None:
    sender = _Channel()
    await send(
        _delivery(channel, needs_ack=needs_ack),
        channels={channel: sender},
        timeout_s=1,
        acknowledgement_links=LINKS,
    )
    (sent,) = sender.sent
    link = sent.body.get("ack_link")
    assert (link is not None) is linked
    if linked:
        assert LINKS.delivery_of(str(link).rsplit("/", 1)[1]) == DELIVERY_ID
