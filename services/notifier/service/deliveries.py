"""What every use case acting for a hospital checks first: the delivery exists and was sent to
that hospital (a hospital acknowledges and replays only its own alerts)."""

from __future__ import annotations

from services.notifier.adapters import repository
from services.notifier.domain.errors import NotYourDelivery, UnknownDelivery
from services.notifier.domain.model import Delivery
from shared.db.pool import Connection


async def sent_to(connection: Connection, *, delivery_id: str, hospital: str) -> Delivery:
    """The delivery; raises UnknownDelivery, or NotYourDelivery when it went to another."""
    delivery = await repository.get_delivery(connection, delivery_id=delivery_id)
    if delivery is None:
        raise UnknownDelivery(delivery_id)
    if delivery.hospital != hospital:
        raise NotYourDelivery(delivery_id)
    return delivery
