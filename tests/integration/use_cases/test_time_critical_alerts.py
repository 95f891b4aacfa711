"""Time-critical alerts: raised once when due, to whoever must act, and never once stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.referral.adapters import timeline_repository
from services.referral.domain.alerts import AlertCode
from services.referral.domain.commands import ClinicalTime, ReportedTime
from services.referral.domain.model import Referral
from services.referral.service.alerts import (
    raise_due_alerts,
    raise_due_alerts_of,
    referrals_in_reach_with_versions,
    referrals_with_alerts_in_reach,
)
from services.referral.service.handlers import change_referral
from services.referral.service.intake import request_referral
from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.vocabulary.notification_categories import NotificationCategory
from shared.workflow.task_state import TaskStatus
from tests.integration.use_cases.support import (
    COMMUNITY,
    CONTEXT,
    FAR_CENTRE,
    NEAR_CENTRE,
    NOTIFICATIONS_TOPIC,
    outbox_messages,
    referral_change,
    referral_request,
    stored,
)


async def _referral(connection: Connection, **overrides: object) -> Referral:
    referral_id = await request_referral(
        connection, request=referral_request(**overrides), context=CONTEXT
    )
    referral = await stored(connection, referral_id)
    return referral


async def _accepted(connection: Connection, referral: Referral) -> Referral:
    accept = referral_change(referral.id, EventCode.REFERRAL_ACCEPTED, sender=referral.owner_org)
    return await change_referral(connection, change=accept, context=CONTEXT)


async def test_the_thrombolysis_alert_goes_to_both_hospitals_once(connection: Connection) -> None:
    now = datetime.now(UTC)
    referral = await _accepted(
        connection,
        await _referral(connection, last_known_well=now - timedelta(hours=3, minutes=40)),
    )
    queued = len(await outbox_messages(connection, key=referral.id))

    raised = await raise_due_alerts(connection, referral=referral, context=CONTEXT, now=now)
    again = await raise_due_alerts(connection, referral=referral, context=CONTEXT, now=now)

    assert [alert.code for alert in raised] == [AlertCode.LKW_3H30]
    assert again == []
    published = (await outbox_messages(connection, key=referral.id))[queued:]
    assert [(p.topic, p.category) for p in published] == [
        (NOTIFICATIONS_TOPIC, NotificationCategory.TIME_ALERT)
    ]
    assert published[0].recipients == [NEAR_CENTRE, COMMUNITY]
    # On the timeline at the moment it fell due.
    steps = await timeline_repository.timeline(connection, referral_id=referral.id)
    alerts = [s for s in steps if s.event_code == EventCode.TIME_CRITICAL_ALERT.value]
    assert [(s.occurred_at, s.detail["alert"]) for s in alerts] == [
        (raised[0].due_at, AlertCode.LKW_3H30.value)
    ]


async def test_an_alert_whose_breach_is_already_past_is_not_sent(connection: Connection) -> None:
    now = datetime.now(UTC)
    # Five hours after last known well the thrombolysis window has closed: no page helps.
    referral = await _accepted(
        connection, await _referral(connection, last_known_well=now - timedelta(hours=5))
    )

    assert await raise_due_alerts(connection, referral=referral, context=CONTEXT, now=now) == []


async def test_the_door_in_door_out_alert_goes_to_the_sending_hospital_only(
    connection: Connection,
) -> None:
    now = datetime.now(UTC)
    door_in = ReportedTime(kind=ClinicalTime.DOOR_IN, occurred_at=now - timedelta(minutes=80))
    referral = await _accepted(
        connection, await _referral(connection, last_known_well=None, reported_times=(door_in,))
    )
    queued = len(await outbox_messages(connection, key=referral.id))

    raised = await raise_due_alerts(connection, referral=referral, context=CONTEXT, now=now)

    assert [alert.code for alert in raised] == [AlertCode.DIDO_APPROACHING]
    published = (await outbox_messages(connection, key=referral.id))[queued:]
    assert published[0].recipients == [COMMUNITY]


async def test_a_referral_not_accepted_by_its_deadline_raises_an_alert(
    connection: Connection,
) -> None:
    asked = datetime.now(UTC) - timedelta(minutes=15)
    referral = await _referral(connection, last_known_well=None, requested_at=asked)

    raised = await raise_due_alerts(
        connection, referral=referral, context=CONTEXT, now=datetime.now(UTC)
    )

    assert [alert.code for alert in raised] == [AlertCode.REFERRAL_NOT_ACCEPTED]
    assert referral.status is TaskStatus.REQUESTED


async def test_a_re_routed_patient_is_not_paged_twice_for_one_window(
    connection: Connection,
) -> None:
    now = datetime.now(UTC)
    first = await _referral(connection, last_known_well=now - timedelta(hours=3, minutes=40))
    await _accepted(connection, first)
    await raise_due_alerts(connection, referral=first, context=CONTEXT, now=now)
    # The accepting hospital cancels; the patient is referred on, on the same clock.
    second = await _referral(
        connection,
        owner_org=FAR_CENTRE,
        replaces=first.id,
        last_known_well=first.last_known_well,
    )

    assert await raise_due_alerts(connection, referral=second, context=CONTEXT, now=now) == []


async def test_a_consult_not_asked_for_15_min_after_door_in_alerts_the_spoke_when_they_pass(
    connection: Connection,
) -> None:
    # The referral asks for a teleconsult; no consult request has come (telemedicine has not
    # answered yet) and no further event arrives: the watcher's round raises the alert on time.
    door = datetime.now(UTC) - timedelta(minutes=5)
    door_in = ReportedTime(kind=ClinicalTime.DOOR_IN, occurred_at=door)
    referral = await _referral(
        connection,
        last_known_well=None,
        reported_times=(door_in,),
        teleconsult_requested=True,
        accept_by=door + timedelta(hours=1),  # no other alert falls due meanwhile
    )
    queued = len(await outbox_messages(connection, key=referral.id))

    async def watcher_round(after_door: timedelta) -> int:
        now = door + after_door
        if referral.id not in await referrals_with_alerts_in_reach(connection, now=now):
            return 0
        return await raise_due_alerts_of(
            connection, referral_id=referral.id, context=CONTEXT, now=now
        )

    assert await watcher_round(timedelta(minutes=14, seconds=50)) == 0
    assert await watcher_round(timedelta(minutes=15, seconds=5)) == 1
    assert await watcher_round(timedelta(minutes=16)) == 0  # raised once
    published = (await outbox_messages(connection, key=referral.id))[queued:]
    assert [(p.category, p.recipients) for p in published] == [
        (NotificationCategory.TIME_ALERT, [COMMUNITY])
    ]
    steps = await timeline_repository.timeline(connection, referral_id=referral.id)
    assert [
        (s.occurred_at, s.detail["alert"])
        for s in steps
        if s.event_code == EventCode.TIME_CRITICAL_ALERT.value
    ] == [(door + timedelta(minutes=15), AlertCode.CONSULT_REQUESTED_LATE.value)]


async def test_a_referral_without_a_teleconsult_gets_no_consult_alert(
    connection: Connection,
) -> None:
    door = datetime.now(UTC) - timedelta(minutes=20)
    door_in = ReportedTime(kind=ClinicalTime.DOOR_IN, occurred_at=door)
    referral = await _referral(connection, last_known_well=None, reported_times=(door_in,))

    raised = await raise_due_alerts(
        connection, referral=referral, context=CONTEXT, now=datetime.now(UTC)
    )

    assert AlertCode.CONSULT_REQUESTED_LATE not in [alert.code for alert in raised]


async def test_the_watchers_version_of_a_referral_changes_when_its_timeline_does(
    connection: Connection,
) -> None:
    # In the consult window (door-in 20 min ago, a teleconsult asked for, none requested yet).
    door = datetime.now(UTC) - timedelta(minutes=20)
    referral = await _referral(
        connection,
        last_known_well=None,
        reported_times=(ReportedTime(kind=ClinicalTime.DOOR_IN, occurred_at=door),),
        teleconsult_requested=True,
        accept_by=door + timedelta(hours=1),
    )

    async def version() -> str:
        now = datetime.now(UTC)
        return dict(await referrals_in_reach_with_versions(connection, now=now))[referral.id]

    before = await version()
    assert await version() == before  # nothing happened: the watcher may leave it alone
    await raise_due_alerts_of(connection, referral_id=referral.id, context=CONTEXT, now=door)
    assert await version() == before  # nothing was due yet
    await raise_due_alerts_of(
        connection, referral_id=referral.id, context=CONTEXT, now=datetime.now(UTC)
    )

    assert await version() != before  # the alert raised is on its timeline
