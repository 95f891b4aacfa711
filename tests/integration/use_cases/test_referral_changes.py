"""Changes hospitals make to a referral: the state machine, the timeline, the patient's clock,
the referral-events and what the referring hospital is told."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from services.referral.adapters import timeline_repository
from services.referral.domain.commands import ClinicalTime, ReferralChange, ReportedTime
from services.referral.domain.errors import NotAParty, ReferralNotFound
from services.referral.service.handlers import change_referral
from services.referral.service.intake import request_referral
from services.referral.service.patient_clock import patient_milestones
from shared.db.pool import Connection
from shared.errors import DomainError
from shared.fhir.codes import EventCode
from shared.vocabulary.milestones import MilestoneCode
from shared.workflow.task_state import TaskStatus, TransitionRefused
from tests.integration.use_cases.support import (
    COMMUNITY,
    CONTEXT,
    NEAR_CENTRE,
    NOTIFICATIONS_TOPIC,
    REFERRAL_EVENTS_TOPIC,
    events,
    outbox_messages,
    referral_change,
    referral_request,
    stored,
)

E = EventCode


async def _requested(connection: Connection) -> str:
    return await request_referral(connection, request=referral_request(), context=CONTEXT)


async def test_an_accepted_referral_is_announced_and_the_referring_hospital_told(
    connection: Connection,
) -> None:
    referral_id = await _requested(connection)
    queued = len(await outbox_messages(connection, key=referral_id))

    changed = await change_referral(
        connection,
        change=referral_change(
            referral_id, E.REFERRAL_ACCEPTED, sender=NEAR_CENTRE, status=TaskStatus.ACCEPTED
        ),
        context=CONTEXT,
    )

    assert changed.status is TaskStatus.ACCEPTED
    assert (await stored(connection, referral_id)).status is TaskStatus.ACCEPTED
    published = (await outbox_messages(connection, key=referral_id))[queued:]
    assert events(published) == [
        (REFERRAL_EVENTS_TOPIC, E.REFERRAL_ACCEPTED),
        (NOTIFICATIONS_TOPIC, E.NOTIFICATION_REQUESTED),
    ]
    assert published[1].recipients == [COMMUNITY]
    milestones = {m.code for m in await patient_milestones(connection, referral_id=referral_id)}
    assert MilestoneCode.REFERRAL_ACCEPTED in milestones


async def test_a_departure_puts_the_transfer_in_progress_and_stamps_door_out(
    connection: Connection,
) -> None:
    referral_id = await _requested(connection)
    accepted = referral_change(referral_id, E.REFERRAL_ACCEPTED, sender=NEAR_CENTRE)
    await change_referral(connection, change=accepted, context=CONTEXT)
    queued = len(await outbox_messages(connection, key=referral_id))

    departed = referral_change(referral_id, E.TRANSFER_DEPARTED, sender=COMMUNITY)
    await change_referral(connection, change=departed, context=CONTEXT)

    assert (await stored(connection, referral_id)).status is TaskStatus.IN_PROGRESS
    # Nobody waits for this answer: the event, no notification.
    published = (await outbox_messages(connection, key=referral_id))[queued:]
    assert events(published) == [(REFERRAL_EVENTS_TOPIC, E.TRANSFER_DEPARTED)]
    milestones = await patient_milestones(connection, referral_id=referral_id)
    door_out = next(m for m in milestones if m.code is MilestoneCode.DOOR_OUT_FIRST)
    assert door_out.occurred_at == departed.occurred_at


async def test_a_clinical_update_shows_each_time_at_its_clinical_time(
    connection: Connection,
) -> None:
    referral_id = await _requested(connection)
    ct_at = datetime.now(UTC) - timedelta(minutes=20)
    needle_at = datetime.now(UTC) - timedelta(minutes=5)
    update = referral_change(
        referral_id,
        E.CLINICAL_UPDATE,
        sender=COMMUNITY,
        reported_times=(
            ReportedTime(kind=ClinicalTime.CT_STARTED, occurred_at=ct_at),
            ReportedTime(kind=ClinicalTime.NEEDLE, occurred_at=needle_at),
        ),
    )

    await change_referral(connection, change=update, context=CONTEXT)

    steps = await timeline_repository.timeline(connection, referral_id=referral_id)
    clinical = [s for s in steps if s.event_code == E.CLINICAL_UPDATE.value]
    assert [(s.occurred_at, s.detail["milestone"]) for s in clinical] == [
        (ct_at, "ct-started"),
        (needle_at, "needle"),
    ]
    assert {m.code for m in await patient_milestones(connection, referral_id=referral_id)} >= {
        MilestoneCode.CT_STARTED,
        MilestoneCode.NEEDLE,
    }


async def test_a_hospital_that_may_not_send_the_event_is_refused_and_nothing_changes(
    connection: Connection,
) -> None:
    referral_id = await _requested(connection)
    queued = len(await outbox_messages(connection, key=referral_id))

    with pytest.raises(NotAParty, match="Only the receiving hospital may send"):
        await change_referral(
            connection,
            change=referral_change(referral_id, E.REFERRAL_ACCEPTED, sender=COMMUNITY),
            context=CONTEXT,
        )

    assert (await stored(connection, referral_id)).status is TaskStatus.REQUESTED
    assert len(await outbox_messages(connection, key=referral_id)) == queued


@pytest.mark.parametrize(
    ("change_for", "refusal", "issue_code"),
    [
        (
            lambda rid: referral_change(
                "uc-no-such-referral", E.REFERRAL_ACCEPTED, sender=NEAR_CENTRE
            ),
            ReferralNotFound,
            "not-found",
        ),
        (
            lambda rid: referral_change(rid, E.REFERRAL_COMPLETED, sender=NEAR_CENTRE),
            TransitionRefused,
            "business-rule",
        ),
        (
            lambda rid: referral_change(rid, E.REFERRAL_DECLINED, sender=NEAR_CENTRE),
            TransitionRefused,
            "business-rule",
        ),
    ],
    ids=["unknown referral", "completed before it started", "declined without a reason"],
)
async def test_a_change_the_referral_cannot_take_is_refused_with_its_kind(
    connection: Connection,
    change_for: Callable[[str], ReferralChange],
    refusal: type[DomainError],
    issue_code: str,
) -> None:
    referral_id = await _requested(connection)
    change = change_for(referral_id)

    with pytest.raises(refusal) as refused:
        await change_referral(connection, change=change, context=CONTEXT)

    assert refused.value.issue_code == issue_code
    assert (await stored(connection, referral_id)).status is TaskStatus.REQUESTED
