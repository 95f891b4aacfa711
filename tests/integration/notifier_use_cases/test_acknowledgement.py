"""Acknowledgement: the first one wins and is told to the referral's timeline and the hospital's
open pages; a repeat changes nothing; a hospital acknowledges only what was sent to it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.notifier.adapters import live_events
from services.notifier.domain.errors import NotYourDelivery, UnknownDelivery
from services.notifier.domain.model import Channel
from services.notifier.service.acknowledgements import PersonAcknowledging, acknowledge
from services.referral.adapters.fhir_steps import notification_outcome_step
from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.fhir.models import Communication
from tests.integration.notifier_use_cases.support import (
    HOSPITAL,
    OTHER_HOSPITAL,
    alert_queued,
    delivery_on,
    events,
    published,
)

NOW = datetime.now(UTC)


async def test_the_first_acknowledgement_is_recorded_told_and_shown_on_the_pages(
    connection: Connection,
) -> None:
    referral_id = await alert_queued(connection)
    line = await delivery_on(connection, referral_id, Channel.LINE)
    first = await acknowledge(
        connection, delivery_id=line.id, acknowledged_by="Uanan", channel="line", at=NOW
    )
    assert first is True
    assert await events(connection, referral_id) == [EventCode.NOTIFICATION_ACKNOWLEDGED]
    shown = await live_events.events_after(connection, organization=HOSPITAL, after_id=0)
    # The alert, shown with its request, then its acknowledgement.
    assert [(e.kind, e.payload.get("acknowledged_by")) for e in shown] == [
        ("notification", None),
        ("acknowledged", "line:Uanan"),
    ]


async def test_a_second_acknowledgement_changes_nothing(connection: Connection) -> None:
    referral_id = await alert_queued(connection)
    line = await delivery_on(connection, referral_id, Channel.LINE)
    await acknowledge(
        connection, delivery_id=line.id, acknowledged_by="Uanan", channel="line", at=NOW
    )
    again = await acknowledge(
        connection, delivery_id=line.id, acknowledged_by="Ubusaba", channel="line", at=NOW
    )
    assert again is False
    assert await events(connection, referral_id) == [EventCode.NOTIFICATION_ACKNOWLEDGED]


async def test_an_alert_the_notifier_never_sent_is_refused(connection: Connection) -> None:
    with pytest.raises(UnknownDelivery):
        await acknowledge(
            connection,
            delivery_id="00000000-0000-5000-8000-000000000000",
            acknowledged_by="Uanan",
            channel="line",
            at=NOW,
        )


async def test_a_hospital_acknowledges_only_its_own_alerts(connection: Connection) -> None:
    referral_id = await alert_queued(connection)
    pages = await delivery_on(connection, referral_id, Channel.IN_APP)
    with pytest.raises(NotYourDelivery):
        await acknowledge(
            connection,
            delivery_id=pages.id,
            acknowledged_by=f"Organization/{OTHER_HOSPITAL}",
            channel="web",
            at=NOW,
            hospital=OTHER_HOSPITAL,
        )
    assert await events(connection, referral_id) == []
    own = await acknowledge(
        connection,
        delivery_id=pages.id,
        acknowledged_by=f"Organization/{HOSPITAL}",
        channel="web",
        at=NOW,
        hospital=HOSPITAL,
    )
    assert own is True


async def test_a_person_who_acknowledges_is_named_to_the_pages_and_the_referrals_timeline(
    connection: Connection,
) -> None:
    referral_id = await alert_queued(connection)
    pages = await delivery_on(connection, referral_id, Channel.IN_APP)
    await acknowledge(
        connection,
        delivery_id=pages.id,
        acknowledged_by=PersonAcknowledging("Nurse Ubon", user_id="17"),
        channel="web",
        at=NOW,
        hospital=HOSPITAL,
    )
    shown = await live_events.events_after(connection, organization=HOSPITAL, after_id=0)
    assert [e.payload["acknowledged_by"] for e in shown if e.kind == "acknowledged"] == [
        "web:Nurse Ubon"
    ]
    (told,) = await published(connection, referral_id)
    communication = told.focus_resource(Communication)
    assert communication is not None
    assert communication.sender is not None
    assert communication.sender.display == "Nurse Ubon"
    assert communication.sender.identifier is not None
    assert communication.sender.identifier.value == "17"
    # The referral service reads the name onto the timeline step.
    assert notification_outcome_step(told).detail["by"] == "Nurse Ubon"
