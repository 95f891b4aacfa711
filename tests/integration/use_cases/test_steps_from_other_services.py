"""Steps other services report (a teleconsult asked for, a notification delivered) go on the
referral's timeline; a step about a referral the service does not know is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.notifier.adapters.communication_messages import outcome_message
from services.notifier.domain.model import Channel, Delivery
from services.referral.adapters import timeline_repository
from services.referral.domain.commands import RecordStep
from services.referral.domain.errors import ReferralNotFound
from services.referral.service.handlers import record_notification_outcome, record_step
from services.referral.service.intake import request_referral
from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from tests.integration.use_cases.support import CONTEXT, referral_request


def _delivered(referral_id: str) -> RecordStep:
    return RecordStep(
        referral_id=referral_id,
        event=EventCode.NOTIFICATION_DELIVERED,
        source="https://fasttrack.test/notifier",
        message_id="m-delivered",
        occurred_at=datetime.now(UTC) - timedelta(seconds=30),
        detail={"status": "completed"},
    )


async def test_a_delivered_notification_is_on_the_referrals_timeline_when_it_happened(
    connection: Connection,
) -> None:
    referral_id = await request_referral(connection, request=referral_request(), context=CONTEXT)
    step = _delivered(referral_id)

    await record_step(connection, step=step)

    steps = await timeline_repository.timeline(connection, referral_id=referral_id)
    delivered = [s for s in steps if s.event_code == EventCode.NOTIFICATION_DELIVERED.value]
    assert [(s.occurred_at, s.detail) for s in delivered] == [(step.occurred_at, step.detail)]


async def test_a_step_about_an_unknown_referral_is_refused(connection: Connection) -> None:
    with pytest.raises(ReferralNotFound, match="Unknown referral uc-nobody"):
        await record_step(connection, step=_delivered("uc-nobody"))


async def test_an_outcome_of_a_home_isolation_notification_is_not_a_referrals(
    connection: Connection,
) -> None:
    """A reminder or nurses' alert of a home-isolation episode is keyed by the episode, which is
    no referral: its outcome is left to telemedicine, not refused (no dead letter per reminder)."""
    reminder = Delivery(
        id="d-reminder",
        request_id="cr-reminder",
        referral_id="hi-0123456789abcdef0123",
        recipient="Patient/p-home",
        channel=Channel.LINE,
        priority="routine",
        body={},
    )
    outcome = outcome_message(
        reminder, sent=True, reason=None, source_endpoint="https://fasttrack.test/notifier"
    )

    await record_notification_outcome(connection, outcome)

    entries = await connection.fetchval(
        "SELECT count(*) FROM timeline_entry WHERE referral_id = $1", reminder.referral_id
    )
    assert entries == 0
