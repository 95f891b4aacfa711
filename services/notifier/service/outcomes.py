"""What happens after a send: the fallback to the next channel when a message fails for good
(refused at once, or reported undeliverable later by the gateway), and delivery receipts. Each
outcome is an event on the referral's timeline."""

from __future__ import annotations

from datetime import datetime

from services.notifier.adapters import fhir_mapping, repository
from services.notifier.domain.contacts import ContactBook, ContactPoint
from services.notifier.domain.model import Delivery
from shared.db.pool import Connection
from shared.messaging.outbox import add_to_outbox
from shared.messaging.topics import NOTIFICATION_OUTCOMES

SOURCE_ENDPOINT = "urn:fasttrack:notifier"


async def fall_back(
    connection: Connection, *, failed: Delivery, contacts: ContactBook
) -> Delivery | None:
    """LINE failed for good: the recipient's next channel (e.g. SMS), queued in the same
    transaction; None when no channel is left."""
    following = contacts.fallback(failed.recipient, ContactPoint(failed.channel, failed.address))
    if following is None:
        return None
    retry = fhir_mapping.delivery_for(
        request_id=failed.request_id,
        referral_id=failed.referral_id,
        recipient=failed.recipient,
        contact=following,
        priority=failed.priority,
        body=failed.body,
        trace_context=failed.trace_context,
        addressed_to=failed.addressed_to,
        hospital=failed.hospital,
        role=failed.role,
        escalation_step=failed.escalation_step,
    )
    await repository.insert_delivery(connection, delivery=retry)
    return retry


class UnknownReceipt(LookupError):
    """A receipt for a message the notifier never sent."""


async def record_delivered(connection: Connection, *, delivery_id: str, at: datetime) -> bool:
    """The first receipt of a sent message; False for a repeat (receipts are redelivered)."""
    changed = await repository.mark_delivered(connection, delivery_id=delivery_id, at=at)
    delivery = await _receipted(connection, delivery_id=delivery_id, changed=changed)
    if delivery is None:
        return False
    await add_to_outbox(
        connection,
        topic=NOTIFICATION_OUTCOMES,
        key=delivery.referral_id,
        message=fhir_mapping.delivered_message(delivery, at=at, source_endpoint=SOURCE_ENDPOINT),
    )
    return True


async def record_undelivered(
    connection: Connection, *, delivery_id: str, reason: str, contacts: ContactBook
) -> tuple[bool, Delivery | None]:
    """The gateway accepted the message but could not deliver it: it fails, and the next
    channel is tried. Returns whether this report was new, and the next channel's delivery."""
    changed = await repository.mark_undelivered(connection, delivery_id=delivery_id, reason=reason)
    delivery = await _receipted(connection, delivery_id=delivery_id, changed=changed)
    if delivery is None:
        return False, None
    await add_to_outbox(
        connection,
        topic=NOTIFICATION_OUTCOMES,
        key=delivery.referral_id,
        message=fhir_mapping.outcome_message(
            delivery, sent=False, reason=reason, source_endpoint=SOURCE_ENDPOINT
        ),
    )
    return True, await fall_back(connection, failed=delivery, contacts=contacts)


async def _receipted(connection: Connection, *, delivery_id: str, changed: bool) -> Delivery | None:
    """The delivery a receipt changed; None for a repeat; UnknownReceipt for a stranger's."""
    delivery = await repository.get_delivery(connection, delivery_id=delivery_id)
    if delivery is None:
        raise UnknownReceipt(delivery_id)
    return delivery if changed else None
