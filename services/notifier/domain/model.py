"""Deliveries and the rules for retrying them. Plain data, no I/O."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from shared.vocabulary.notification_channels import NotificationChannel

# Delivery ids are derived from what makes a delivery unique, so a redelivered request maps to
# the same row and the same idempotency key.
_DELIVERY_NAMESPACE = uuid.UUID("6f0a3c1e-9a57-4c61-8d8e-2b8f0d1f5a10")


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


# The channels travel on Kafka (Communication.medium): one vocabulary, defined in shared/.
Channel = NotificationChannel


# Channels that reach systems and screens rather than a person: they get a copy of what is
# addressed to a hospital, take no part in fallback, and are never escalated from.
BROADCAST_CHANNELS = frozenset({Channel.WEBHOOK, Channel.IN_APP})


class TransientDeliveryError(Exception):
    """Worth retrying (5xx, 429, timeout, connection refused)."""

    def __init__(self, reason: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


class PermanentDeliveryError(Exception):
    """Retrying cannot help (4xx other than 408/429)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, kw_only=True)
class Delivery:
    id: str
    request_id: str
    referral_id: str
    recipient: str
    channel: Channel
    priority: str
    # The message as rendered for its recipient: "text" (in the recipient's language), "link"
    # (the authenticated page), "needs_ack" (stroke alerts), "referral", "recipient", "priority".
    body: dict[str, Any]
    # Where on the channel: LINE user/group id, phone number (E.164), e-mail address; the webhook
    # channel has its URL in configuration.
    address: str = ""
    # 0 for the first page; n for the n-th step up the escalation ladder.
    escalation_step: int = 0
    # Whom the request named (Organization/..., PractitionerRole/..., Practitioner/...) when the
    # directory resolved it to ``recipient``; and the hospital and on-call role it went through.
    addressed_to: str = ""
    hospital: str = ""
    role: str = ""
    attempts: int = 0
    trace_context: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def delivery_id(*, request_id: str, recipient: str, channel: Channel) -> str:
        return str(uuid.uuid5(_DELIVERY_NAMESPACE, f"{request_id}|{recipient}|{channel.value}"))


@dataclass(frozen=True, kw_only=True)
class DeliveryLogEntry:
    """One line of a referral's delivery log: who was told, on which channel, what became of
    it, and who acknowledged (the message text and the address are not shown)."""

    id: str
    addressed_to: str
    recipient: str
    hospital: str
    channel: Channel
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    escalation_step: int
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None


@dataclass(frozen=True, kw_only=True)
class DeadLetter:
    """A delivery that finally failed, with the reason: what an operator replays."""

    id: str
    referral_id: str
    recipient: str
    channel: Channel
    attempts: int
    last_error: str | None
    created_at: datetime


@dataclass(frozen=True)
class Acknowledgement:
    at: datetime
    # "<channel>:<who>", e.g. "line:U4af49...", "link:Practitioner/dr-anan", "web:Organization/x".
    by: str


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_s: float
    cap_s: float

    def delay_after(self, attempts: int, *, retry_after_s: float | None = None) -> float:
        """Exponential backoff with full jitter; a server's Retry-After is a floor."""
        ceiling = min(self.cap_s, self.base_s * 2 ** max(attempts - 1, 0))
        delay = random.uniform(ceiling / 2, ceiling)
        return max(delay, retry_after_s or 0.0)

    def gives_up_after(self, attempts: int) -> bool:
        return attempts >= self.max_attempts
