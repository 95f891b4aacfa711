"""Acknowledgements: a person confirms they saw an alert (LINE postback, link or web)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.notifier.adapters import communication_messages, live_events, repository
from services.notifier.adapters.in_app import ACKNOWLEDGED, alert_of
from services.notifier.domain.errors import UnknownDelivery
from services.notifier.service.deliveries import sent_to
from services.notifier.service.outcomes import SOURCE_ENDPOINT
from shared.db.pool import Connection
from shared.fhir.answered_alerts import answered_alerts_from
from shared.fhir.envelope import FhirMessage
from shared.messaging.outbox import add_to_outbox
from shared.messaging.topics import NOTIFICATION_OUTCOMES
from shared.web_identity import PersonIdentity

# How an acknowledgement made on the clinicians' board is recorded (acknowledged_by board:<who>).
BOARD_CHANNEL = "board"


@dataclass(frozen=True)
class PersonAcknowledging:
    """A person who acknowledged: the name the web app shows, and their user id when the web
    app vouched for them (a signed identity); the referral's timeline shows the name."""

    name: str
    user_id: str | None = None


def person_acknowledging(person: PersonIdentity) -> PersonAcknowledging:
    """The signed-in person (shared/web_identity.py) who pressed "Acknowledge"."""
    return PersonAcknowledging(
        name=person.display_name or f"user:{person.user_id}", user_id=person.user_id
    )


async def acknowledge(
    connection: Connection,
    *,
    delivery_id: str,
    acknowledged_by: str | PersonAcknowledging,
    channel: str,
    at: datetime,
    hospital: str | None = None,
) -> bool:
    """Records the first acknowledgement of a delivery; False when it was already acknowledged.

    ``acknowledged_by``: the person who did (recorded by name, and named to the referral's
    timeline), else what proves who it was (a link's recipient, a hospital's system).

    ``hospital``: the hospital acknowledging from its web page or system, which acknowledges
    only what was sent to it (NotYourDelivery); None for a LINE user or a signed link's
    recipient, proven by the channel. Raises UnknownDelivery for an id the notifier never sent.
    """
    if hospital is not None:
        await sent_to(connection, delivery_id=delivery_id, hospital=hospital)
    person = acknowledged_by if isinstance(acknowledged_by, PersonAcknowledging) else None
    by = f"{channel}:{person.name if person else acknowledged_by}"
    delivery = await repository.mark_acknowledged(connection, delivery_id=delivery_id, at=at, by=by)
    if delivery is not None:
        if delivery.hospital:
            # The hospital's open pages show the alert as answered, and by whom.
            await live_events.publish(
                connection,
                organization=delivery.hospital,
                kind=ACKNOWLEDGED,
                delivery_id=delivery.id,
                payload={
                    "alert": alert_of(delivery),
                    "referral": delivery.referral_id,
                    "acknowledged_by": by,
                    "at": at.isoformat(),
                },
            )
        # The referral's timeline shows who answered, and when.
        await add_to_outbox(
            connection,
            topic=NOTIFICATION_OUTCOMES,
            key=delivery.referral_id,
            message=communication_messages.acknowledged_message(
                delivery,
                acknowledged_by=by,
                person=(person.name, person.user_id) if person else None,
                at=at,
                source_endpoint=SOURCE_ENDPOINT,
            ),
        )
        return True
    if await repository.get_delivery(connection, delivery_id=delivery_id) is None:
        raise UnknownDelivery(delivery_id)
    return False


async def acknowledge_answered_alerts(connection: Connection, message: FhirMessage) -> int:
    """Someone of the hospital answered its alerts about the referral elsewhere (on the
    clinicians' board): each of them is acknowledged in that person's name, so none repeats or
    escalates, and the hospital's pages and the referral's timeline are told. Returns how many."""
    answered = answered_alerts_from(message)
    acknowledged = 0
    for delivery in await repository.open_alerts(
        connection, referral_id=answered.referral_id, hospital=answered.hospital_id
    ):
        acknowledged += await acknowledge(
            connection,
            delivery_id=delivery.id,
            acknowledged_by=PersonAcknowledging(answered.acknowledged_by),
            channel=BOARD_CHANNEL,
            at=answered.at,
            hospital=answered.hospital_id,
        )
    return acknowledged
