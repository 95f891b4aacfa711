"""Delivery receipts: a text that reached the phone is told once to the referral's timeline; one
the gateway could not deliver fails and the doctor's next channel is tried."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.notifier.domain.errors import UnknownReceipt
from services.notifier.domain.model import Channel
from services.notifier.service.dispatch import Outcome
from services.notifier.service.outcomes import record_delivered, record_undelivered
from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from tests.integration.notifier_use_cases.support import (
    CONTACTS,
    alert_queued,
    delivery_on,
    events,
    recorded,
)

NOW = datetime.now(UTC)


async def _texted(connection: Connection) -> tuple[str, str]:
    """An alert whose LINE message failed, so the on-call doctor was texted (SMS sent)."""
    referral_id = await alert_queued(connection)
    line = await delivery_on(connection, referral_id, Channel.LINE)
    sms = await recorded(connection, line, Outcome.FAILED, "LINE user blocked us")
    assert sms is not None
    await recorded(connection, sms, Outcome.SENT)
    return referral_id, sms.id


async def test_a_text_that_reached_the_phone_is_told_once(connection: Connection) -> None:
    referral_id, sms_id = await _texted(connection)
    assert await record_delivered(connection, delivery_id=sms_id, at=NOW) is True
    assert await record_delivered(connection, delivery_id=sms_id, at=NOW) is False  # a repeat
    assert await events(connection, referral_id) == [
        EventCode.NOTIFICATION_FAILED,
        EventCode.NOTIFICATION_SENT,
        EventCode.NOTIFICATION_DELIVERED,
    ]


async def test_a_text_the_gateway_could_not_deliver_fails_and_has_no_next_channel_left(
    connection: Connection,
) -> None:
    referral_id, sms_id = await _texted(connection)
    new, following = await record_undelivered(
        connection, delivery_id=sms_id, reason="SMS gateway: absent subscriber", contacts=CONTACTS
    )
    assert new is True
    assert following is None  # SMS was the doctor's last channel
    again, _ = await record_undelivered(
        connection, delivery_id=sms_id, reason="SMS gateway: absent subscriber", contacts=CONTACTS
    )
    assert again is False
    assert (await events(connection, referral_id))[-1] is EventCode.NOTIFICATION_FAILED


async def test_a_receipt_for_a_message_never_sent_is_refused(connection: Connection) -> None:
    with pytest.raises(UnknownReceipt):
        await record_delivered(
            connection, delivery_id="00000000-0000-5000-8000-000000000000", at=NOW
        )
