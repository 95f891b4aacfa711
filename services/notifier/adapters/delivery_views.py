"""Reads of the delivery log for people (schema ``notifier``): a referral's log for its
hospitals, the dead letters operators replay, and an alert's acknowledgement for its page. Typed
read models (domain/model.py), no message text or address; the sender's SQL is repository.py."""

from __future__ import annotations

from services.notifier.domain.model import (
    Acknowledgement,
    Channel,
    DeadLetter,
    DeliveryLogEntry,
    DeliveryStatus,
)
from shared.db.pool import Connection


async def deliveries_for_referral(
    connection: Connection, *, referral_id: str, hospital: str | None
) -> list[DeliveryLogEntry]:
    """The referral's delivery log, for one of its hospitals (``hospital``), or for an operator
    (None); empty for any other hospital."""
    rows = await connection.fetch(
        """
        SELECT id, addressed_to, recipient, hospital, channel, status, attempts, last_error,
               escalation_step, created_at, sent_at, delivered_at, acknowledged_at,
               acknowledged_by
        FROM delivery
        WHERE referral_id = $1
          AND ($2::text IS NULL OR EXISTS (
                SELECT 1 FROM referral_hospital AS party
                WHERE party.referral_id = $1 AND party.hospital = $2))
        ORDER BY created_at
        """,
        referral_id,
        hospital,
    )
    return [
        DeliveryLogEntry(
            id=row["id"],
            addressed_to=row["addressed_to"],
            recipient=row["recipient"],
            hospital=row["hospital"],
            channel=Channel(row["channel"]),
            status=DeliveryStatus(row["status"]),
            attempts=row["attempts"],
            last_error=row["last_error"],
            escalation_step=row["escalation_step"],
            created_at=row["created_at"],
            sent_at=row["sent_at"],
            delivered_at=row["delivered_at"],
            acknowledged_at=row["acknowledged_at"],
            acknowledged_by=row["acknowledged_by"],
        )
        for row in rows
    ]


async def dead_letters(
    connection: Connection, *, hospital: str | None = None, limit: int = 100
) -> list[DeadLetter]:
    """Deliveries that finally failed (of one hospital, or all), newest first, with the reason:
    what operators replay."""
    rows = await connection.fetch(
        """
        SELECT id, referral_id, recipient, channel, attempts, last_error, created_at
        FROM delivery WHERE status = 'failed' AND ($2::text IS NULL OR hospital = $2)
        ORDER BY created_at DESC LIMIT $1
        """,
        limit,
        hospital,
    )
    return [
        DeadLetter(
            id=row["id"],
            referral_id=row["referral_id"],
            recipient=row["recipient"],
            channel=Channel(row["channel"]),
            attempts=row["attempts"],
            last_error=row["last_error"],
            created_at=row["created_at"],
        )
        for row in rows
    ]


async def acknowledgement_of(connection: Connection, *, delivery_id: str) -> Acknowledgement | None:
    """When and by whom a delivery was acknowledged; None while it is not."""
    row = await connection.fetchrow(
        "SELECT acknowledged_at, acknowledged_by FROM delivery WHERE id = $1", delivery_id
    )
    if row is None or row["acknowledged_at"] is None:
        return None
    return Acknowledgement(row["acknowledged_at"], row["acknowledged_by"])
