"""Re-routing: a declined, redirected or unanswered referral is replaced by one to the next
hospital; both are linked, the patient's clock goes along, and the referring hospital is told."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.referral.adapters import timeline_repository
from services.referral.service.handlers import change_referral
from services.referral.service.intake import request_referral
from services.referral.service.patient_clock import patient_milestones
from services.referral.service.rerouting import reroute_if_overdue
from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.fhir.ids import is_valid_id
from shared.workflow.task_state import TaskStatus
from tests.integration.use_cases.support import (
    COMMUNITY,
    CONTEXT,
    FAR_CENTRE,
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


async def _declined(connection: Connection, referral_id: str, *, by: str) -> None:
    decline = referral_change(
        referral_id, E.REFERRAL_DECLINED, sender=by, status=TaskStatus.REJECTED, reason="no bed"
    )
    await change_referral(connection, change=decline, context=CONTEXT)


async def test_a_declined_referral_is_replaced_by_one_to_the_next_hospital(
    connection: Connection,
) -> None:
    first = await request_referral(connection, request=referral_request(), context=CONTEXT)

    await _declined(connection, first, by=NEAR_CENTRE)

    old = await stored(connection, first)
    assert old.status is TaskStatus.REJECTED
    assert old.replaced_by == f"{first}.r1"
    new = await stored(connection, f"{first}.r1")
    assert (new.owner_org, new.requester_org, new.replaces) == (FAR_CENTRE, COMMUNITY, first)
    assert events(await outbox_messages(connection, key=first)) == [
        (REFERRAL_EVENTS_TOPIC, E.REFERRAL_REQUESTED),
        (NOTIFICATIONS_TOPIC, E.NOTIFICATION_REQUESTED),  # the first stroke alert
        (REFERRAL_EVENTS_TOPIC, E.REFERRAL_DECLINED),
        (REFERRAL_EVENTS_TOPIC, E.REFERRAL_REDIRECTED),
        (NOTIFICATIONS_TOPIC, E.NOTIFICATION_REQUESTED),  # re-routed, to the referring one
        (NOTIFICATIONS_TOPIC, E.NOTIFICATION_REQUESTED),  # declined, to the referring one
    ]
    # The new hospital's stroke team is paged by the new referral's own alert.
    published = await outbox_messages(connection, key=new.id)
    assert events(published) == [
        (REFERRAL_EVENTS_TOPIC, E.REFERRAL_REQUESTED),
        (NOTIFICATIONS_TOPIC, E.NOTIFICATION_REQUESTED),
    ]
    assert published[1].recipients == [FAR_CENTRE]


async def test_the_replacement_keeps_the_patients_clock(connection: Connection) -> None:
    first = await request_referral(connection, request=referral_request(), context=CONTEXT)

    await _declined(connection, first, by=NEAR_CENTRE)

    assert await patient_milestones(
        connection, referral_id=f"{first}.r1"
    ) == await patient_milestones(connection, referral_id=first)


async def test_when_no_other_hospital_can_take_the_patient_the_referring_one_is_told_to_call(
    connection: Connection,
) -> None:
    first = await request_referral(connection, request=referral_request(), context=CONTEXT)
    await _declined(connection, first, by=NEAR_CENTRE)
    second = f"{first}.r1"

    await _declined(connection, second, by=FAR_CENTRE)

    assert (await stored(connection, second)).replaced_by is None
    published = await outbox_messages(connection, key=second)
    assert events(published)[-3:] == [
        (REFERRAL_EVENTS_TOPIC, E.REFERRAL_DECLINED),
        (NOTIFICATIONS_TOPIC, E.NOTIFICATION_REQUESTED),  # no other hospital: call the hub
        (NOTIFICATIONS_TOPIC, E.NOTIFICATION_REQUESTED),  # declined
    ]
    assert published[-2].recipients == [COMMUNITY]
    steps = await timeline_repository.timeline(connection, referral_id=second)
    assert steps[-1].event_code == E.REFERRAL_REDIRECTED.value
    assert steps[-1].detail["outcome"] == "no other hospital can take the patient"


async def test_a_redirect_sends_the_patient_to_the_hospital_the_receiver_names(
    connection: Connection,
) -> None:
    first = await request_referral(
        connection, request=referral_request(owner_org=FAR_CENTRE), context=CONTEXT
    )
    redirect = referral_change(
        first,
        E.REFERRAL_REDIRECTED,
        sender=FAR_CENTRE,
        status=TaskStatus.REJECTED,
        reason="closer centre has a bed",
        redirect_to=NEAR_CENTRE,
    )

    await change_referral(connection, change=redirect, context=CONTEXT)

    assert (await stored(connection, f"{first}.r1")).owner_org == NEAR_CENTRE


async def test_a_referral_nobody_accepted_by_its_deadline_is_cancelled_and_re_routed(
    connection: Connection,
) -> None:
    asked = datetime.now(UTC) - timedelta(minutes=20)
    first = await request_referral(
        connection, request=referral_request(requested_at=asked), context=CONTEXT
    )

    assert await reroute_if_overdue(
        connection, referral_id=first, now=datetime.now(UTC), context=CONTEXT
    )

    old = await stored(connection, first)
    assert old.status is TaskStatus.CANCELLED
    assert (await stored(connection, f"{first}.r1")).owner_org == FAR_CENTRE
    steps = await timeline_repository.timeline(connection, referral_id=first)
    cancelled = next(s for s in steps if s.event_code == E.REFERRAL_CANCELLED.value)
    assert cancelled.detail["reason"] == "not accepted by its deadline"


async def test_a_referral_still_within_its_deadline_is_left_alone(connection: Connection) -> None:
    first = await request_referral(connection, request=referral_request(), context=CONTEXT)

    assert not await reroute_if_overdue(
        connection, referral_id=first, now=datetime.now(UTC), context=CONTEXT
    )

    assert (await stored(connection, first)).status is TaskStatus.REQUESTED


async def test_a_referral_with_the_longest_id_a_hospital_may_send_is_re_routed(
    connection: Connection,
) -> None:
    # 64 characters, the most a FHIR id may have: "<id>.r1" would be 67 and no FHIR id, so the
    # re-route failed and the patient was asked for nowhere else (every round, for ever).
    longest = f"uc-{uuid.uuid4()}-".ljust(64, "x")
    asked = datetime.now(UTC) - timedelta(minutes=20)
    first = await request_referral(
        connection,
        request=referral_request(referral_id=longest, requested_at=asked),
        context=CONTEXT,
    )

    assert await reroute_if_overdue(
        connection, referral_id=first, now=datetime.now(UTC), context=CONTEXT
    )

    replacement = (await stored(connection, first)).replaced_by
    assert replacement is not None
    assert is_valid_id(replacement)
    assert replacement.endswith(".r1")
    assert (await stored(connection, replacement)).owner_org == FAR_CENTRE


async def test_referrals_whose_ids_hold_dot_r_are_each_re_routed_to_their_own_replacement(
    connection: Connection,
) -> None:
    # The first id was once taken as what comes before ".r": "<x>.ref-a" and "<x>.ref-b" both
    # became "<x>.r1", and the second patient's re-route ran into the first one's referral.
    shared_start = f"uc-{uuid.uuid4()}"
    firsts = [
        await request_referral(
            connection,
            request=referral_request(referral_id=f"{shared_start}.ref-{n}"),
            context=CONTEXT,
        )
        for n in ("a", "b")
    ]

    for first in firsts:
        await _declined(connection, first, by=NEAR_CENTRE)

    replacements = [(await stored(connection, first)).replaced_by for first in firsts]
    assert replacements == [f"{first}.r1" for first in firsts]
    for first in firsts:
        assert (await stored(connection, f"{first}.r1")).replaces == first
