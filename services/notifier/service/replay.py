"""Replay: a delivery that finally failed is queued again (same id, so the receiver can
de-duplicate), by the hospital it was for (``POST /deliveries/{id}/replay``) or by an operator
(``python -m services.notifier.replay``, any hospital's)."""

from __future__ import annotations

from services.notifier.adapters import repository
from services.notifier.domain.errors import NotAFailedDelivery, UnknownDelivery
from services.notifier.service.deliveries import sent_to
from shared.db.pool import Connection


async def replay(connection: Connection, *, delivery_id: str, hospital: str | None) -> None:
    """Puts the failed delivery back in the queue; ``hospital`` None: an operator, any
    hospital's. The dispatcher sends it at its next poll (or at once when woken)."""
    if hospital is not None:
        await sent_to(connection, delivery_id=delivery_id, hospital=hospital)
    if not await repository.replay(connection, delivery_id=delivery_id):
        if await repository.get_delivery(connection, delivery_id=delivery_id) is None:
            raise UnknownDelivery(delivery_id)
        raise NotAFailedDelivery(delivery_id)
