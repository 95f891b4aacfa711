"""The in-app channel: a notification becomes a live event on its hospital's web pages.

"Sent" means recorded in the hospital's feed (and announced with NOTIFY); every open page of
that hospital shows it at once, and a page opened or reconnected later catches up from the feed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg

from services.notifier.adapters import live_events
from services.notifier.domain.model import Delivery, PermanentDeliveryError
from shared.db.pool import Connection

NOTIFICATION = "notification"
ACKNOWLEDGED = "acknowledged"

# What a page shows: the same minimum as every other channel (PDPA: no name, no national id).
_SHOWN = ("referral", "category", "priority", "text", "link", "needs_ack", "ack_link")


class InAppChannel:
    def __init__(self, *, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def send(self, delivery: Delivery) -> None:
        async with self._pool.acquire() as connection, connection.transaction():
            await self.send_in(connection, delivery)

    async def send_in(self, connection: Connection, delivery: Delivery) -> None:
        """``send`` inside the caller's transaction."""
        await self._publish(connection, delivery, mark_sent=False)

    async def send_and_mark_sent(self, connection: Connection, delivery: Delivery) -> None:
        """Sends the delivery and records it sent, in one statement (no transaction needed)."""
        await self._publish(connection, delivery, mark_sent=True)

    async def _publish(
        self, connection: Connection, delivery: Delivery, *, mark_sent: bool
    ) -> None:
        if not delivery.hospital:
            raise PermanentDeliveryError("in-app notifications go to a hospital's pages")
        await live_events.publish(
            connection,
            organization=delivery.hospital,
            kind=NOTIFICATION,
            delivery_id=delivery.id,
            payload=shown_on_pages(delivery),
            mark_sent=mark_sent,
        )


def shown_on_pages(delivery: Delivery) -> dict[str, Any]:
    """The live event's payload: what the hospital's pages show of ``delivery``."""
    payload = {key: delivery.body[key] for key in _SHOWN if key in delivery.body}
    return {
        **payload,
        "delivery": delivery.id,
        "alert": alert_of(delivery),
        "at": datetime.now(UTC).isoformat(),
    }


def alert_of(delivery: Delivery) -> str:
    """What ties an alert's deliveries (first page, escalations, copies) together on a page."""
    return delivery.request_id.split("#")[0]
