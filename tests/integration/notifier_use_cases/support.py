"""What the notifier use-case tests share: a small directory, a stroke alert request, the
deliveries of a referral and a reading of the outbox (what the notifier would publish)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import asyncpg
from opentelemetry import trace

from services.notifier.adapters import delivery_views, repository
from services.notifier.adapters.contacts_document import directory_from
from services.notifier.domain.model import Channel, Delivery, RetryPolicy
from services.notifier.service.dispatch import Attempt, DeliveryChannel, Outcome, record_attempt
from services.notifier.service.handlers import accept_notification_request
from services.notifier.workers.dispatcher import DeliveryDispatcher
from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage, parse_message
from shared.fhir.notifications import notification_request_message
from shared.vocabulary.notification_categories import NotificationCategory

HOSPITAL = "uc-stroke-centre"
OTHER_HOSPITAL = "uc-community"
SOURCE = "urn:fasttrack:notifier"
RETRIES = RetryPolicy(max_attempts=3, base_s=1, cap_s=10)
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# The stroke centre pages its neurologist on call (LINE, then SMS), round the clock; the backup
# has SMS only; the team has a LINE group and the supervisor a phone.
CONTACTS = directory_from(
    {
        "people": {
            "dr-anan": {
                "channels": [
                    {"channel": "line", "address": "Uanan"},
                    {"channel": "sms", "address": "0811111111"},
                ]
            },
            "dr-busaba": {"language": "en", "channels": [{"channel": "sms", "address": "0822"}]},
        },
        "hospitals": {
            HOSPITAL: {
                "language": "th",
                "webhook": True,
                "group": {"channel": "line", "address": "Cstroke-team"},
                "supervisor": {"channel": "sms", "address": "0899"},
                "roles": {
                    "neuro": {
                        "shifts": [
                            {
                                "person": "dr-anan",
                                "days": EVERY_DAY,
                                "start": "00:00",
                                "end": "00:00",
                            }
                        ],
                        "backup": "dr-busaba",
                    }
                },
                "on_call": {"*": "neuro"},
            },
            OTHER_HOSPITAL: {"channels": [{"channel": "sms", "address": "0833"}]},
        },
        "escalation": {"ack_within_s": 300, "ladder": ["repeat", "group", "backup", "supervisor"]},
    }
)


def stroke_alert(
    referral_id: str,
    *,
    to: str = HOSPITAL,
    category: NotificationCategory = NotificationCategory.STROKE_ALERT,
) -> FhirMessage:
    return notification_request_message(
        request_id=f"cr-{uuid.uuid4().hex[:8]}",
        category=category,
        referral_id=referral_id,
        recipients=[to],
        english="Stroke referral: patient on the way",
        thai="ส่งต่อผู้ป่วย stroke กำลังเดินทาง",
        link=f"https://fasttrack.test/referrals/{referral_id}",
        sender="Organization/uc-community",
        source_endpoint="urn:fasttrack:referral",
    )


def new_referral() -> str:
    return f"uc-ref-{uuid.uuid4().hex[:12]}"


async def alert_queued(connection: Connection, *, to: str = HOSPITAL) -> str:
    """A stroke alert about a new referral, accepted: its deliveries are pending (its live event
    on the pages is sent with it). The referral."""
    referral_id = new_referral()
    await accept_notification_request(
        connection, stroke_alert(referral_id, to=to), contacts=CONTACTS
    )
    return referral_id


async def delivery_on(
    connection: Connection, referral_id: str, channel: Channel, *, step: int = 0
) -> Delivery:
    """The referral's delivery on ``channel`` (at escalation ``step``)."""
    (entry,) = [
        e
        for e in await delivery_views.deliveries_for_referral(
            connection, referral_id=referral_id, hospital=None
        )
        if e.channel is channel and e.escalation_step == step
    ]
    delivery = await repository.get_delivery(connection, delivery_id=entry.id)
    assert delivery is not None
    return delivery


async def recorded(
    connection: Connection, delivery: Delivery, outcome: Outcome, reason: str | None = None
) -> Delivery | None:
    """``record_attempt`` with the test directory and retry policy."""
    return await record_attempt(
        connection,
        delivery,
        Attempt(outcome, reason),
        retry_policy=RETRIES,
        contacts=CONTACTS,
        source_endpoint=SOURCE,
    )


async def published(connection: Connection, referral_id: str) -> list[FhirMessage]:
    """What the use cases queued for Kafka about one referral, in order."""
    rows = await connection.fetch(
        "SELECT payload FROM outbox WHERE message_key = $1 ORDER BY id", referral_id
    )
    return [parse_message(bytes(row["payload"])) for row in rows]


async def events(connection: Connection, referral_id: str) -> list[EventCode]:
    return [message.event for message in await published(connection, referral_id)]


def summary(entries: list[Any]) -> list[tuple[str, str, str]]:
    """(recipient, channel, status) of each delivery log entry, sorted."""
    return sorted((e.recipient, e.channel.value, e.status.value) for e in entries)


def dispatcher_on(
    pool: asyncpg.Pool, channels: Mapping[Channel, DeliveryChannel], **overrides: Any
) -> DeliveryDispatcher:
    """A dispatcher as the use-case tests run one: the test directory and retries, a 30 s lease,
    a claim every 0.1 s and a 5 s send timeout, unless ``overrides`` say otherwise."""
    settings: dict[str, Any] = {
        "lease_s": 30,
        "poll_interval_s": 0.1,
        "send_timeout_s": 5,
        **overrides,
    }
    return DeliveryDispatcher(
        pool=pool,
        channels=dict(channels),
        contacts=CONTACTS,
        retry_policy=RETRIES,
        tracer=trace.get_tracer("test"),
        source_endpoint=SOURCE,
        **settings,
    )
