"""Dispatch: one attempt to send a delivery on its channel, and what the attempt comes to.

``send`` makes the attempt and says how it went (sent, worth retrying, failed for good);
``record_attempt`` writes that down: the delivery's new state, the recipient's next channel
after a final failure, and the outcome event on the referral's timeline (outbox); and when
nobody is left to reach, the request's own final failure (nobody-reached), once. A send or a
retry is one statement; only a final failure, which may queue the next channel, takes a
transaction. The dispatcher worker (``workers/dispatcher.py``) claims deliveries and runs
the two; each is tested here without it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from opentelemetry import trace

from services.notifier.adapters import (
    communication_messages,
    fhir_mapping,
    final_failure,
    repository,
)
from services.notifier.domain.contacts import ContactBook
from services.notifier.domain.model import (
    Channel,
    Delivery,
    PermanentDeliveryError,
    RetryPolicy,
    TransientDeliveryError,
)
from services.notifier.service.links import AcknowledgementLinks
from services.notifier.service.outcomes import fall_back, tell_if_nobody_reached
from shared.db.pool import Connection
from shared.messaging.outbox import OutboxEvent, add_to_outbox, outbox_parameters
from shared.messaging.topics import NOTIFICATION_OUTCOMES

log = logging.getLogger(__name__)


class DeliveryChannel(Protocol):
    async def send(self, delivery: Delivery) -> None: ...


@runtime_checkable
class StoredChannel(Protocol):
    """A channel whose sending is a write to the notifier's own database (the in-app feed of
    the hospital's pages): it is sent and recorded sent in one statement."""

    async def send_and_mark_sent(self, connection: Connection, delivery: Delivery) -> None: ...


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    reason: str | None = None
    # A server's Retry-After: the next attempt waits at least this long.
    retry_after_s: float | None = None


async def send(
    delivery: Delivery,
    *,
    channels: Mapping[Channel, DeliveryChannel],
    timeout_s: float,
    acknowledgement_links: AcknowledgementLinks | None = None,
) -> Attempt:
    """Sends ``delivery`` once; never raises (a failure is an Attempt saying why)."""
    channel = channels.get(delivery.channel)
    if channel is None:
        return Attempt(Outcome.FAILED, f"channel {delivery.channel.value} not configured")
    try:
        async with asyncio.timeout(timeout_s):
            await channel.send(with_acknowledgement_link(delivery, acknowledgement_links))
    except TimeoutError:
        return Attempt(Outcome.RETRY, "send timed out")
    except TransientDeliveryError as error:
        return Attempt(Outcome.RETRY, error.reason, error.retry_after_s)
    except PermanentDeliveryError as error:
        return Attempt(Outcome.FAILED, error.reason)
    except Exception:
        log.exception("delivery %s failed unexpectedly", delivery.id)
        return Attempt(Outcome.RETRY, "internal error")
    return Attempt(Outcome.SENT)


def with_acknowledgement_link(delivery: Delivery, links: AcknowledgementLinks | None) -> Delivery:
    """An alert to a person (or a page) carries its one-tap acknowledgement link; made at send
    time, so it is never stored and a replayed alert gets a fresh one."""
    if links is None or not delivery.body.get("needs_ack") or delivery.channel is Channel.WEBHOOK:
        return delivery
    return dataclasses.replace(
        delivery, body={**delivery.body, "ack_link": links.link_for(delivery.id)}
    )


async def send_and_record(
    connection: Connection,
    delivery: Delivery,
    channel: StoredChannel,
    *,
    acknowledgement_links: AcknowledgementLinks | None = None,
) -> None:
    """Sends ``delivery`` on a stored channel and records it sent: one statement, so the use
    case needs no transaction (a sent in-app event is no news for the timeline, and nothing
    falls back from it). Raises what the channel raises (nothing was written; the caller
    records the attempt as ``send`` would have judged it)."""
    await channel.send_and_mark_sent(
        connection, with_acknowledgement_link(delivery, acknowledgement_links)
    )


async def record_attempt(
    connection: Connection,
    delivery: Delivery,
    attempt: Attempt,
    *,
    retry_policy: RetryPolicy,
    contacts: ContactBook,
    source_endpoint: str,
) -> Delivery | None:
    """Writes down what ``attempt`` came to; ``connection`` needs no transaction (each case
    is one statement, or opens its own). Returns the delivery on the recipient's next channel
    when this one failed for good and another is left."""
    if attempt.outcome is Outcome.SENT:
        await _record_sent(connection, delivery, source_endpoint=source_endpoint)
        return None
    reason = attempt.reason or "failed"
    if attempt.outcome is Outcome.RETRY:
        if not retry_policy.gives_up_after(delivery.attempts):
            delay = retry_policy.delay_after(delivery.attempts, retry_after_s=attempt.retry_after_s)
            log.warning("delivery %s: %s; retry in %.1f s", delivery.id, reason, delay)
            trace.get_current_span().add_event(
                "retry scheduled",
                {"attempt": delivery.attempts, "retry_in_s": round(delay, 3), "reason": reason},
            )
            await repository.reschedule(
                connection, delivery_id=delivery.id, delay_s=delay, reason=reason
            )
            return None
        reason = f"{reason} (gave up after {delivery.attempts})"
    async with connection.transaction():
        return await _record_failed(
            connection, delivery, reason=reason, contacts=contacts, source_endpoint=source_endpoint
        )


@dataclass(frozen=True)
class SentOutcome:
    """A delivery sent on a channel that is not the database (webhook, LINE, SMS), with its
    outcome event's outbox columns (``outbox_parameters``), written in the delivery's trace."""

    delivery_id: str
    outcome: tuple[list[str], ...]


def sent_outcome(delivery: Delivery, *, source_endpoint: str) -> SentOutcome:
    event = OutboxEvent(
        topic=NOTIFICATION_OUTCOMES,
        key=delivery.referral_id,
        message=communication_messages.outcome_message(
            delivery, sent=True, reason=None, source_endpoint=source_endpoint
        ),
    )
    return SentOutcome(delivery.id, outbox_parameters([event]))


async def record_all_sent(connection: Connection, sent: Sequence[SentOutcome]) -> int:
    """``record_attempt`` of several sent deliveries (``sent_outcome``) in one statement: each
    marked sent and its outcome told, by this statement only if it marked it (a concurrent
    sender that finished it first told it); no transaction. How many it marked."""
    return await repository.mark_all_sent_and_tell(
        connection,
        delivery_ids=[one.delivery_id for one in sent],
        outcomes=[[value for one in sent for value in one.outcome[n]] for n in range(6)],
    )


async def _record_sent(connection: Connection, delivery: Delivery, *, source_endpoint: str) -> None:
    """Sent, and the timeline told (only by the sender that marked it: a concurrent one that
    finished it first told it), in one statement."""
    if delivery.channel is Channel.IN_APP:
        # A live event published to the hospital's feed has told nobody yet: the timeline hears
        # of it when an open page shows it (notification-delivered), or if it fails.
        await repository.mark_sent(connection, delivery_id=delivery.id)
        return
    await record_all_sent(connection, [sent_outcome(delivery, source_endpoint=source_endpoint)])


async def _record_failed(
    connection: Connection,
    delivery: Delivery,
    *,
    reason: str,
    contacts: ContactBook,
    source_endpoint: str,
) -> Delivery | None:
    """Failed for good (in the caller's transaction): the recipient's next channel queued and
    the timeline told, unless a concurrent sender finished it first (it wrote the outcome);
    with no channel left and nobody else to reach, the request's final failure told too."""
    # Held first: of two of the request's deliveries failing at once, the second sees the first.
    await final_failure.lock_request(
        connection, request_id=fhir_mapping.base_request_id(delivery.request_id)
    )
    if not await repository.mark_failed(connection, delivery_id=delivery.id, reason=reason):
        return None
    following = await fall_back(connection, failed=delivery, contacts=contacts)
    trace.get_current_span().add_event(
        "delivery failed",
        {"reason": reason, "next_channel": following.channel.value if following else "none"},
    )
    await add_to_outbox(
        connection,
        topic=NOTIFICATION_OUTCOMES,
        key=delivery.referral_id,
        message=communication_messages.outcome_message(
            delivery, sent=False, reason=reason, source_endpoint=source_endpoint
        ),
    )
    if following is None:
        await tell_if_nobody_reached(connection, failed=delivery, source_endpoint=source_endpoint)
    return following
