"""Replay: a delivery that finally failed is queued again (same id, so the receiver can
de-duplicate), by an operator only (``POST /deliveries/{id}/replay`` with an operator's key or
as a signed-in operator, or ``python -m services.notifier.replay`` on the servers). Every
replay is audited: who, when, which delivery of which referral."""

from __future__ import annotations

from datetime import UTC, datetime

from services.notifier.adapters import operator_access, repository
from services.notifier.domain.errors import NotAFailedDelivery, UnknownDelivery
from shared.db.pool import Connection


async def replay(
    connection: Connection, *, delivery_id: str, by: str, at: datetime | None = None
) -> None:
    """Puts the failed delivery back in the queue and records who did it, in one transaction.
    The dispatcher sends it at its next poll (or at once when woken)."""
    async with connection.transaction():
        delivery = await repository.get_delivery(connection, delivery_id=delivery_id)
        if delivery is None:
            raise UnknownDelivery(delivery_id)
        if not await repository.replay(connection, delivery_id=delivery_id):
            raise NotAFailedDelivery(delivery_id)
        await operator_access.record_replay(
            connection,
            delivery_id=delivery_id,
            referral_id=delivery.referral_id,
            by=by,
            at=at or datetime.now(UTC),
        )
