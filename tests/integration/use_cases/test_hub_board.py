"""The hub board and the spoke's list on the real PostgreSQL: each hospital sees only its own
referrals (in the query), an acknowledgement records who and when, and the board's accept and
decline go through the same use case as a hospital system's message."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.referral.adapters import board_queries, timeline_repository
from services.referral.domain.errors import ReferralNotFound
from services.referral.service import board
from services.referral.service.board import BoardUser
from services.referral.service.intake import request_referral
from shared.db.pool import Connection
from shared.fhir.answered_alerts import answered_alerts_from
from shared.fhir.codes import EventCode
from shared.vocabulary.decline_reasons import DeclineReason
from shared.workflow.task_state import TaskStatus, TransitionRefused
from tests.integration.use_cases.support import (
    COMMUNITY,
    CONTEXT,
    FAR_CENTRE,
    NEAR_CENTRE,
    NOTIFICATIONS_TOPIC,
    REFERRAL_EVENTS_TOPIC,
    events,
    outbox_messages,
    referral_request,
    stored,
)

E = EventCode
HUB_DOCTOR = BoardUser(user_id="u-hub-1", display_name="Dr. Hub One", hospital_id=NEAR_CENTRE)
HUB_NURSE = BoardUser(user_id="u-hub-2", display_name="Nurse Hub Two", hospital_id=NEAR_CENTRE)
THIRD_DOCTOR = BoardUser(user_id="u-far-1", display_name="Dr. Far", hospital_id=FAR_CENTRE)
SPOKE_NURSE = BoardUser(user_id="u-spoke-1", display_name="Nurse Spoke", hospital_id=COMMUNITY)


async def _requested(connection: Connection) -> str:
    """A referral from the community hospital to the near centre."""
    return await request_referral(connection, request=referral_request(), context=CONTEXT)


def _now() -> datetime:
    return datetime.now(UTC)


async def test_the_board_shows_a_referral_to_its_hub_only(connection: Connection) -> None:
    referral_id = await _requested(connection)

    hub = await board_queries.board(connection, hospital_id=NEAR_CENTRE)
    third = await board_queries.board(connection, hospital_id=FAR_CENTRE)
    spoke_board = await board_queries.board(connection, hospital_id=COMMUNITY)

    assert [r.id for r in hub] == [referral_id]
    assert hub[0].requester_name == "Community Hospital"
    assert hub[0].needs_attention
    assert third == []
    assert spoke_board == []  # the spoke sent it: it is on its list, not its board


async def test_the_spoke_list_shows_what_the_spoke_sent_and_nothing_of_others(
    connection: Connection,
) -> None:
    referral_id = await _requested(connection)
    now = _now()

    sent = await board_queries.sent_referrals(connection, hospital_id=COMMUNITY, now=now)
    third = await board_queries.sent_referrals(connection, hospital_id=FAR_CENTRE, now=now)
    hub = await board_queries.sent_referrals(connection, hospital_id=NEAR_CENTRE, now=now)

    assert [(r.id, r.owner_name, r.status) for r in sent] == [
        (referral_id, "Near Stroke Centre", TaskStatus.REQUESTED)
    ]
    assert sent[0].last_known_well is not None
    assert third == []
    assert hub == []


async def test_one_referral_is_read_only_by_its_two_hospitals(connection: Connection) -> None:
    referral_id = await _requested(connection)

    for hospital, visible in ((COMMUNITY, True), (NEAR_CENTRE, True), (FAR_CENTRE, False)):
        found = await board_queries.listed_referral(
            connection, referral_id=referral_id, hospital_id=hospital
        )
        assert (found is not None) is visible, hospital


async def test_an_acknowledgement_records_who_and_when_and_goes_on_the_timeline(
    connection: Connection,
) -> None:
    referral_id = await _requested(connection)
    at = _now()

    first = await board.acknowledge(
        connection, referral_id=referral_id, user=HUB_DOCTOR, now=at, context=CONTEXT
    )
    again = await board.acknowledge(
        connection, referral_id=referral_id, user=HUB_DOCTOR, now=at, context=CONTEXT
    )
    other = await board.acknowledge(
        connection, referral_id=referral_id, user=HUB_NURSE, now=at, context=CONTEXT
    )

    assert (first, again, other) == (True, False, True)
    [listed] = await board_queries.board(connection, hospital_id=NEAR_CENTRE)
    assert [(a.display_name, a.acknowledged_at) for a in listed.acknowledgements] == [
        ("Dr. Hub One", at),
        ("Nurse Hub Two", at),
    ]
    assert not listed.needs_attention
    timeline = await timeline_repository.timeline(connection, referral_id=referral_id)
    seen = [s.detail for s in timeline if s.event_code == E.NOTIFICATION_ACKNOWLEDGED.value]
    assert seen == [
        {"via": "board", "by": "Dr. Hub One"},
        {"via": "board", "by": "Nurse Hub Two"},
    ]


@pytest.mark.parametrize("outsider", [THIRD_DOCTOR, SPOKE_NURSE], ids=["third", "spoke"])
async def test_only_the_receiving_hospital_may_acknowledge_or_answer(
    connection: Connection, outsider: BoardUser
) -> None:
    referral_id = await _requested(connection)

    with pytest.raises(ReferralNotFound):
        await board.acknowledge(
            connection, referral_id=referral_id, user=outsider, now=_now(), context=CONTEXT
        )
    with pytest.raises(ReferralNotFound):
        await board.answer(
            connection, referral_id=referral_id, user=outsider, now=_now(), context=CONTEXT
        )
    assert (await stored(connection, referral_id)).status is TaskStatus.REQUESTED


async def test_accepting_on_the_board_is_the_hospitals_accept_and_counts_as_seen(
    connection: Connection,
) -> None:
    referral_id = await _requested(connection)
    queued = len(await outbox_messages(connection, key=referral_id))

    accepted = await board.answer(
        connection, referral_id=referral_id, user=HUB_DOCTOR, now=_now(), context=CONTEXT
    )

    assert accepted.status is TaskStatus.ACCEPTED
    published = (await outbox_messages(connection, key=referral_id))[queued:]
    # As for referral-accepted from the hub's system: announced, and the spoke told; and the
    # hub's alerts about it answered (answering is seeing).
    assert events(published) == [
        (NOTIFICATIONS_TOPIC, E.NOTIFICATION_ACKNOWLEDGED),
        (REFERRAL_EVENTS_TOPIC, E.REFERRAL_ACCEPTED),
        (NOTIFICATIONS_TOPIC, E.NOTIFICATION_REQUESTED),
    ]
    [listed] = await board_queries.board(connection, hospital_id=NEAR_CENTRE)
    assert [a.display_name for a in listed.acknowledgements] == ["Dr. Hub One"]
    with pytest.raises(TransitionRefused):
        await board.answer(
            connection, referral_id=referral_id, user=HUB_NURSE, now=_now(), context=CONTEXT
        )


async def test_declining_on_the_board_gives_the_reason_and_re_routes_the_patient(
    connection: Connection,
) -> None:
    referral_id = await _requested(connection)

    declined = await board.answer(
        connection,
        referral_id=referral_id,
        user=HUB_DOCTOR,
        decline_reason=DeclineReason.CT_UNAVAILABLE,
        now=_now(),
        context=CONTEXT,
    )

    assert declined.status is TaskStatus.REJECTED
    old = await stored(connection, referral_id)
    assert old.replaced_by is not None
    timeline = await timeline_repository.timeline(connection, referral_id=referral_id)
    [decline_step] = [s for s in timeline if s.event_code == E.REFERRAL_DECLINED.value]
    assert decline_step.detail["reason"] == "CT scanner unavailable"
    # Off the hub's board; on the spoke's list as the referral to the next hospital.
    assert await board_queries.board(connection, hospital_id=NEAR_CENTRE) == []
    sent = await board_queries.sent_referrals(connection, hospital_id=COMMUNITY, now=_now())
    assert [(r.id, r.owner_org) for r in sent] == [(old.replaced_by, FAR_CENTRE)]


async def test_the_hubs_first_acknowledgement_tells_the_notifier_its_alerts_are_answered(
    connection: Connection,
) -> None:
    referral_id = await _requested(connection)
    queued = len(await outbox_messages(connection, key=referral_id))

    for user in (HUB_DOCTOR, HUB_NURSE):
        await board.acknowledge(
            connection, referral_id=referral_id, user=user, now=_now(), context=CONTEXT
        )

    published = (await outbox_messages(connection, key=referral_id))[queued:]
    assert events(published) == [(NOTIFICATIONS_TOPIC, E.NOTIFICATION_ACKNOWLEDGED)]
    answered = answered_alerts_from(published[0].message)
    assert (answered.referral_id, answered.hospital_id, answered.acknowledged_by) == (
        referral_id,
        NEAR_CENTRE,
        HUB_DOCTOR.display_name,
    )
