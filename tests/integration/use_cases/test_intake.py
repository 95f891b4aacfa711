"""Intake: a referral (or pre-alert) is checked, routed, stored, announced and its alert sent."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.referral.adapters import timeline_repository
from services.referral.domain.errors import InvalidReferral, ReferralConflict
from services.referral.service.intake import request_referral
from services.referral.service.patient_clock import patient_milestones
from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.vocabulary.milestones import MilestoneCode
from shared.workflow.task_state import TaskStatus
from tests.integration.use_cases.support import (
    COMMUNITY,
    CONTEXT,
    NEAR_CENTRE,
    NOTIFICATIONS_TOPIC,
    REFERRAL_EVENTS_TOPIC,
    events,
    outbox_messages,
    referral_request,
    stored,
)


async def test_a_referral_is_stored_announced_and_the_stroke_team_alerted(
    connection: Connection,
) -> None:
    request = referral_request()

    referral_id = await request_referral(connection, request=request, context=CONTEXT)

    referral = await stored(connection, referral_id)
    assert (referral.status, referral.requester_org, referral.owner_org) == (
        TaskStatus.REQUESTED,
        COMMUNITY,
        NEAR_CENTRE,
    )
    published = await outbox_messages(connection, key=referral_id)
    assert events(published) == [
        (REFERRAL_EVENTS_TOPIC, EventCode.REFERRAL_REQUESTED),
        (NOTIFICATIONS_TOPIC, EventCode.NOTIFICATION_REQUESTED),
    ]
    assert published[1].recipients == [NEAR_CENTRE]
    assert published[1].category == "stroke-alert"
    steps = await timeline_repository.timeline(connection, referral_id=referral_id)
    assert [step.event_code for step in steps] == [EventCode.REFERRAL_REQUESTED.value]


async def test_the_answer_is_due_the_network_response_time_after_the_request(
    connection: Connection,
) -> None:
    request = referral_request()

    referral_id = await request_referral(connection, request=request, context=CONTEXT)

    referral = await stored(connection, referral_id)
    assert referral.accept_by == request.requested_at + CONTEXT.accept_within


async def test_the_patient_clock_starts_with_the_request_and_last_known_well(
    connection: Connection,
) -> None:
    request = referral_request(lkw_source="estimated", lkw_uncertain=True)

    referral_id = await request_referral(connection, request=request, context=CONTEXT)

    milestones = {m.code: m for m in await patient_milestones(connection, referral_id=referral_id)}
    assert set(milestones) == {MilestoneCode.REFERRAL_REQUESTED, MilestoneCode.LAST_KNOWN_WELL}
    assert milestones[MilestoneCode.LAST_KNOWN_WELL].occurred_at == request.last_known_well
    assert milestones[MilestoneCode.LAST_KNOWN_WELL].doubtful


async def test_the_same_request_sent_again_returns_the_same_referral_and_queues_nothing_more(
    connection: Connection,
) -> None:
    request = referral_request()
    first = await request_referral(connection, request=request, context=CONTEXT)
    queued = len(await outbox_messages(connection, key=first))

    again = await request_referral(connection, request=request, context=CONTEXT)

    assert again == first
    assert len(await outbox_messages(connection, key=first)) == queued


async def test_a_referral_without_a_receiving_hospital_goes_to_the_nearest_capable_one(
    connection: Connection,
) -> None:
    referral_id = await request_referral(
        connection, request=referral_request(owner_org=""), context=CONTEXT
    )

    referral = await stored(connection, referral_id)
    assert referral.owner_org == NEAR_CENTRE
    assert referral.routing is not None
    assert referral.routing["destination_id"] == NEAR_CENTRE


@pytest.mark.parametrize(
    ("overrides", "refusal"),
    [
        ({"requester_org": "uc-unknown"}, "Unknown requesting organization"),
        ({"owner_org": "uc-unknown"}, "Unknown receiving organization"),
        (
            {"accept_by": datetime.now(UTC) + timedelta(days=2)},
            "Task.restriction.period.end is more than",
        ),
    ],
    ids=["unknown requester", "unknown receiver", "accept-by days ahead"],
)
async def test_a_request_the_network_cannot_act_on_is_refused_and_nothing_is_queued(
    connection: Connection, overrides: dict[str, object], refusal: str
) -> None:
    request = referral_request(**overrides)

    with pytest.raises(InvalidReferral, match=refusal):
        await request_referral(connection, request=request, context=CONTEXT)

    assert await outbox_messages(connection, key=request.referral_id) == []


async def test_a_referral_id_reused_by_another_request_is_refused_as_a_duplicate(
    connection: Connection,
) -> None:
    first = referral_request()
    await request_referral(connection, request=first, context=CONTEXT)

    other = referral_request(referral_id=first.referral_id, patient_hn="HN-0002")
    with pytest.raises(ReferralConflict) as refused:
        await request_referral(connection, request=other, context=CONTEXT)
    assert refused.value.issue_code == "duplicate"


async def test_the_full_referral_completes_a_prealert_without_paging_the_team_twice(
    connection: Connection,
) -> None:
    prealert = referral_request(prealert=True, patient_hn="")
    referral_id = await request_referral(connection, request=prealert, context=CONTEXT)

    full = replace(
        prealert, prealert=False, patient_hn="HN-0003", request_message_id="full-referral"
    )
    assert await request_referral(connection, request=full, context=CONTEXT) == referral_id

    referral = await stored(connection, referral_id)
    assert (referral.prealert, referral.patient_hn) == (False, "HN-0003")
    assert events(await outbox_messages(connection, key=referral_id)) == [
        (REFERRAL_EVENTS_TOPIC, EventCode.STROKE_PREALERT),
        (NOTIFICATIONS_TOPIC, EventCode.NOTIFICATION_REQUESTED),
        (REFERRAL_EVENTS_TOPIC, EventCode.REFERRAL_REQUESTED),
    ]
