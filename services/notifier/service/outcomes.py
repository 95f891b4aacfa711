"""What happens after a send: the fallback to the next channel when a message fails for good
(refused at once, or reported undeliverable later by the gateway), the request's final failure
when nobody is left to reach, and delivery receipts. Each outcome is an event on the referral's
timeline."""

from __future__ import annotations

from datetime import datetime

from services.notifier.adapters import (
    communication_messages,
    fhir_mapping,
    final_failure,
    repository,
)
from services.notifier.domain.contacts import ContactBook
from services.notifier.domain.directory import ContactPoint
from services.notifier.domain.errors import UnknownReceipt
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
    retry = fhir_mapping.follow_up(failed, contact=following)
    await repository.insert_delivery(connection, delivery=retry)
    return retry


async def tell_if_nobody_reached(
    connection: Connection, *, failed: Delivery, source_endpoint: str
) -> bool:
    """After ``failed`` failed for good with no channel of its recipient left (in the caller's
    transaction, which holds the request: ``final_failure.lock_request``): when no delivery of its
    request may still reach anyone, the request has finally failed, and its sender is told once
    (notification-failed, statusReason nobody-reached). Returns whether it was told."""
    request_id = fhir_mapping.base_request_id(failed.request_id)
    reaching, addressed = await final_failure.request_reach(
        connection, referral_id=failed.referral_id, request_id=request_id
    )
    if reaching:
        return False
    await add_to_outbox(
        connection,
        topic=NOTIFICATION_OUTCOMES,
        key=failed.referral_id,
        message=communication_messages.nobody_reached_message(
            request_id=request_id,
            referral_id=failed.referral_id,
            addressed=addressed,
            priority=failed.priority,
            reason="every channel of every recipient failed",
            source_endpoint=source_endpoint,
        ),
    )
    return True


async def record_delivered(connection: Connection, *, delivery_id: str, at: datetime) -> bool:
    """The first receipt of a sent message; False for a repeat (receipts are redelivered)."""
    delivery = await repository.mark_delivered(connection, delivery_id=delivery_id, at=at)
    if delivery is None:
        await _known(connection, delivery_id=delivery_id)
        return False
    await add_to_outbox(
        connection,
        topic=NOTIFICATION_OUTCOMES,
        key=delivery.referral_id,
        message=communication_messages.delivered_message(
            delivery, at=at, source_endpoint=SOURCE_ENDPOINT
        ),
    )
    return True


async def record_undelivered(
    connection: Connection, *, delivery_id: str, reason: str, contacts: ContactBook
) -> tuple[bool, Delivery | None]:
    """The gateway accepted the message but could not deliver it: it fails, and the next
    channel is tried. Returns whether this report was new, and the next channel's delivery."""
    # (In the caller's transaction: the request is held until it ends, see tell_if_nobody_reached.)
    await final_failure.lock_request_of(connection, delivery_id=delivery_id)
    delivery = await repository.mark_undelivered(connection, delivery_id=delivery_id, reason=reason)
    if delivery is None:
        await _known(connection, delivery_id=delivery_id)
        return False, None
    await add_to_outbox(
        connection,
        topic=NOTIFICATION_OUTCOMES,
        key=delivery.referral_id,
        message=communication_messages.outcome_message(
            delivery, sent=False, reason=reason, source_endpoint=SOURCE_ENDPOINT
        ),
    )
    following = await fall_back(connection, failed=delivery, contacts=contacts)
    if following is None:
        await tell_if_nobody_reached(connection, failed=delivery, source_endpoint=SOURCE_ENDPOINT)
    return True, following


async def _known(connection: Connection, *, delivery_id: str) -> None:
    """A repeated receipt is fine; one for a message we never sent is not."""
    if await repository.get_delivery(connection, delivery_id=delivery_id) is None:
        raise UnknownReceipt(delivery_id)
