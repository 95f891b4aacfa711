"""Replay: a delivery that finally failed goes back in the queue, by an operator, and the audit
says who replayed which delivery when; anything else is refused with the reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.notifier.adapters import delivery_views
from services.notifier.domain.errors import NotAFailedDelivery, UnknownDelivery
from services.notifier.domain.model import Channel, DeliveryStatus
from services.notifier.service.dispatch import Outcome
from services.notifier.service.replay import replay
from shared.db.pool import Connection
from tests.integration.notifier_use_cases.support import (
    HOSPITAL,
    alert_queued,
    delivery_on,
    recorded,
)


async def _failed_webhook(connection: Connection) -> str:
    """The hospital system's copy of an alert, refused for good (e.g. HTTP 400)."""
    referral_id = await alert_queued(connection)
    webhook = await delivery_on(connection, referral_id, Channel.WEBHOOK)
    await recorded(connection, webhook, Outcome.FAILED, "webhook answered HTTP 400")
    return webhook.id


async def _status(connection: Connection, delivery_id: str) -> str | None:
    status: str | None = await connection.fetchval(
        "SELECT status FROM delivery WHERE id = $1", delivery_id
    )
    return status


OPERATOR = "operator:night-shift"


async def test_a_failed_delivery_is_queued_again_with_its_attempts_reset_and_audited(
    connection: Connection,
) -> None:
    delivery_id = await _failed_webhook(connection)
    assert delivery_id in [
        d.id for d in await delivery_views.dead_letters(connection, hospital=HOSPITAL)
    ]
    at = datetime(2026, 11, 30, 23, 5, tzinfo=UTC)
    await replay(connection, delivery_id=delivery_id, by=OPERATOR, at=at)
    assert await _status(connection, delivery_id) == DeliveryStatus.PENDING
    assert (
        await connection.fetchval("SELECT attempts FROM delivery WHERE id = $1", delivery_id) == 0
    )
    assert delivery_id not in [d.id for d in await delivery_views.dead_letters(connection)]
    audit = await connection.fetch(
        "SELECT referral_id, replayed_by, replayed_at FROM replay_audit WHERE delivery_id = $1",
        delivery_id,
    )
    referral_id = await connection.fetchval(
        "SELECT referral_id FROM delivery WHERE id = $1", delivery_id
    )
    assert [tuple(row) for row in audit] == [(referral_id, OPERATOR, at)]


async def test_a_delivery_not_failed_is_refused_and_nothing_is_audited(
    connection: Connection,
) -> None:
    referral_id = await alert_queued(connection)
    pending = await delivery_on(connection, referral_id, Channel.WEBHOOK)
    with pytest.raises(NotAFailedDelivery):
        await replay(connection, delivery_id=pending.id, by=OPERATOR)
    audited = await connection.fetchval(
        "SELECT count(*) FROM replay_audit WHERE delivery_id = $1", pending.id
    )
    assert audited == 0


async def test_an_unknown_delivery_is_refused(connection: Connection) -> None:
    with pytest.raises(UnknownDelivery):
        await replay(connection, delivery_id="00000000-0000-5000-8000-000000000000", by=OPERATOR)
