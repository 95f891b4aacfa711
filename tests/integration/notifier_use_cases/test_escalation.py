"""Escalation: an alert nobody acknowledged in time climbs the ladder, one step per overdue
round, each step on the referral's timeline; an acknowledged alert stays where it is."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from services.notifier.adapters import repository
from services.notifier.domain.model import Channel
from services.notifier.service.acknowledgements import acknowledge, acknowledge_answered_alerts
from services.notifier.service.dispatch import Outcome
from services.notifier.service.escalation import escalate_overdue
from services.notifier.service.handlers import accept_notification_request
from shared.db.pool import Connection
from shared.errors import InvalidInput
from shared.fhir.answered_alerts import AnsweredAlerts, answered_alerts_message
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage, parse_message
from shared.vocabulary.notification_categories import NotificationCategory
from tests.integration.notifier_use_cases.support import (
    CONTACTS,
    HOSPITAL,
    OTHER_HOSPITAL,
    SOURCE,
    alert_queued,
    delivery_on,
    events,
    new_referral,
    recorded,
    stroke_alert,
)

ACK_WITHIN = CONTACTS.escalation.ack_within


def minutes_from_now(minutes: float) -> datetime:
    return datetime.now(UTC) + timedelta(minutes=minutes)


async def _overdue(connection: Connection, *, at: datetime) -> list[tuple[str, str, int]]:
    """(recipient, channel, step) of each escalation the round at ``at`` sent."""
    escalated = await escalate_overdue(
        connection, contacts=CONTACTS, now=at, source_endpoint=SOURCE
    )
    return [(e.recipient, e.channel.value, e.escalation_step) for _, e in escalated]


async def _sent_alert(connection: Connection) -> str:
    referral_id = await alert_queued(connection)
    await recorded(
        connection, await delivery_on(connection, referral_id, Channel.LINE), Outcome.SENT
    )
    return referral_id


async def test_an_alert_not_yet_overdue_stays(connection: Connection) -> None:
    await _sent_alert(connection)
    assert await _overdue(connection, at=minutes_from_now(1)) == []


async def test_an_unanswered_alert_pages_again_then_the_team_then_the_backup_by_sms(
    connection: Connection,
) -> None:
    referral_id = await _sent_alert(connection)
    assert await _overdue(connection, at=minutes_from_now(6)) == [
        ("Practitioner/dr-anan", "line", 1)
    ]
    # The same round again finds nothing more: the alert was escalated once.
    assert await _overdue(connection, at=minutes_from_now(6)) == []
    await recorded(
        connection, await delivery_on(connection, referral_id, Channel.LINE, step=1), Outcome.SENT
    )
    assert await _overdue(connection, at=minutes_from_now(12)) == [
        ("Group/uc-stroke-centre", "line", 2)
    ]
    await recorded(
        connection, await delivery_on(connection, referral_id, Channel.LINE, step=2), Outcome.SENT
    )
    assert await _overdue(connection, at=minutes_from_now(18)) == [
        ("Practitioner/dr-busaba", "sms", 3)
    ]
    assert (await events(connection, referral_id)).count(EventCode.NOTIFICATION_ESCALATED) == 3


async def test_an_acknowledged_alert_is_not_escalated(connection: Connection) -> None:
    referral_id = await _sent_alert(connection)
    line = await delivery_on(connection, referral_id, Channel.LINE)
    await acknowledge(
        connection,
        delivery_id=line.id,
        acknowledged_by="Uanan",
        channel="line",
        at=datetime.now(UTC),
    )
    assert await _overdue(connection, at=minutes_from_now(6)) == []
    assert EventCode.NOTIFICATION_ESCALATED not in await events(connection, referral_id)


def _answered_on_the_board(referral_id: str, *, by_hospital: str, for_hospital: str) -> FhirMessage:
    """The referral service's message: someone of ``by_hospital`` acknowledged the referral on
    the clinicians' board, answering the alerts of ``for_hospital``."""
    message = answered_alerts_message(
        AnsweredAlerts(
            referral_id=referral_id,
            hospital_id=for_hospital,
            acknowledged_by="Dr. Anan",
            at=datetime.now(UTC),
        ),
        source_endpoint="urn:fasttrack:referral",
    )
    if by_hospital == for_hospital:
        return message
    document = copy.deepcopy(message.to_dict())
    document["entry"][0]["resource"]["sender"]["reference"] = f"Organization/{by_hospital}"
    return parse_message(document)


async def test_an_alert_answered_on_the_board_is_acknowledged_and_not_escalated(
    connection: Connection,
) -> None:
    referral_id = await _sent_alert(connection)

    answered = await acknowledge_answered_alerts(
        connection, _answered_on_the_board(referral_id, by_hospital=HOSPITAL, for_hospital=HOSPITAL)
    )

    line = await delivery_on(connection, referral_id, Channel.LINE)
    assert answered >= 1
    acknowledged = await repository.get_delivery(connection, delivery_id=line.id)
    assert acknowledged is not None
    assert await repository.chain_acknowledged(connection, delivery=acknowledged)
    assert await _overdue(connection, at=minutes_from_now(6)) == []
    assert EventCode.NOTIFICATION_ESCALATED not in await events(connection, referral_id)
    assert EventCode.NOTIFICATION_ACKNOWLEDGED in await events(connection, referral_id)


async def test_a_hospital_answers_only_its_own_alerts_on_the_board(
    connection: Connection,
) -> None:
    referral_id = await _sent_alert(connection)
    foreign = _answered_on_the_board(referral_id, by_hospital=OTHER_HOSPITAL, for_hospital=HOSPITAL)

    with pytest.raises(InvalidInput):
        await acknowledge_answered_alerts(connection, foreign)
    other = await acknowledge_answered_alerts(
        connection,
        _answered_on_the_board(
            referral_id, by_hospital=OTHER_HOSPITAL, for_hospital=OTHER_HOSPITAL
        ),
    )

    assert other == 0
    assert await _overdue(connection, at=minutes_from_now(6)) == [
        ("Practitioner/dr-anan", "line", 1)
    ]


async def test_a_consult_page_is_left_to_the_ladder_of_telemedicine_that_sent_it(
    connection: Connection,
) -> None:
    # Telemedicine pages the backup and the stroke lead itself: a second ladder here would page
    # the same person again for one step.
    referral_id = new_referral()
    page = stroke_alert(referral_id, category=NotificationCategory.TELECONSULT_REQUEST)
    await accept_notification_request(connection, page, contacts=CONTACTS)
    await recorded(
        connection, await delivery_on(connection, referral_id, Channel.LINE), Outcome.SENT
    )

    assert await _overdue(connection, at=minutes_from_now(6)) == []
    assert await _overdue(connection, at=minutes_from_now(30)) == []
    assert EventCode.NOTIFICATION_ESCALATED not in await events(connection, referral_id)
