"""The use cases behind the clinicians' referral pages, on the real database: the page reads a
referral only for its two hospitals; a tap records a milestone now and a change needs a reason,
with every report kept; the routing preview stores nothing; the form's findings are stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.referral.adapters import clock_repository
from services.referral.domain.assessment import Anticoagulant, CtResult, StrokeAssessment
from services.referral.domain.commands import ClinicalTime
from services.referral.domain.errors import InvalidReferral, ReferralNotFound
from services.referral.service.intake import request_referral
from services.referral.service.milestone_entry import record_by_person
from services.referral.service.referral_page import read_referral
from services.referral.service.route_preview import preview_route
from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.vocabulary.milestones import MilestoneCode
from tests.integration.use_cases.support import (
    COMMUNITY,
    CONTEXT,
    FAR_CENTRE,
    NEAR_CENTRE,
    REFERRAL_EVENTS_TOPIC,
    events,
    outbox_messages,
    referral_request,
)

FINDINGS = StrokeAssessment(
    systolic_bp=170, diastolic_bp=95, anticoagulant=Anticoagulant.UNKNOWN, ct=CtResult.NOT_DONE
)


async def _referral(connection: Connection) -> str:
    return await request_referral(
        connection,
        request=referral_request(assessment=FINDINGS, requested_by="Ploy (ploy)"),
        context=CONTEXT,
    )


async def test_the_page_shows_the_referral_to_its_two_hospitals_with_the_findings(
    connection: Connection,
) -> None:
    referral_id = await _referral(connection)
    for hospital in (COMMUNITY, NEAR_CENTRE):
        reading = await read_referral(
            connection, referral_id=referral_id, reader_hospital=hospital, reader="User/x"
        )
        assert reading.referral.id == referral_id
        assert StrokeAssessment.from_json(reading.referral.assessment) == FINDINGS
        assert reading.referral.requested_by == "Ploy (ploy)"
        assert reading.patient_data


async def test_a_third_hospital_reads_nothing_and_an_operator_reads_without_patient_data(
    connection: Connection,
) -> None:
    referral_id = await _referral(connection)
    with pytest.raises(ReferralNotFound):
        await read_referral(
            connection, referral_id=referral_id, reader_hospital=FAR_CENTRE, reader="User/z"
        )
    reading = await read_referral(
        connection, referral_id=referral_id, reader_hospital=None, reader="User/op", operator=True
    )
    assert not reading.patient_data


async def _door_in(
    connection: Connection,
    referral_id: str,
    *,
    person: str,
    now: datetime,
    at: datetime | None = None,
    reason: str | None = None,
) -> MilestoneCode:
    return await record_by_person(
        connection,
        referral_id=referral_id,
        kind=ClinicalTime.DOOR_IN,
        hospital=NEAR_CENTRE,
        person=person,
        now=now,
        occurred_at=at,
        reason=reason,
        context=CONTEXT,
    )


async def test_a_tap_records_now_and_a_change_needs_a_reason_keeping_every_report(
    connection: Connection,
) -> None:
    referral_id = await _referral(connection)
    now = datetime.now(UTC)
    code = await _door_in(connection, referral_id, person="Dr A (a)", now=now)
    assert code is MilestoneCode.DOOR_IN_RECEIVING

    with pytest.raises(InvalidReferral, match="needs a reason"):
        await _door_in(connection, referral_id, person="Dr A (a)", now=now)
    earlier = now - timedelta(minutes=7)
    await _door_in(
        connection, referral_id, person="Nurse B (b)", now=now, at=earlier, reason="ambulance log"
    )

    reading = await read_referral(
        connection, referral_id=referral_id, reader_hospital=NEAR_CENTRE, reader="User/b"
    )
    door_in = [m for m in reading.milestones if m.code is MilestoneCode.DOOR_IN_RECEIVING]
    assert [m.occurred_at for m in door_in] == [earlier]
    assert [(r.who, r.reason) for r in reading.reports] == [
        ("Dr A (a)", None),
        ("Nurse B (b)", "ambulance log"),
    ]
    published = events(await outbox_messages(connection, key=referral_id))
    assert published.count((REFERRAL_EVENTS_TOPIC, EventCode.CLINICAL_UPDATE)) == 2


@pytest.mark.parametrize(
    ("hospital", "kind", "refusal", "reason"),
    [
        (FAR_CENTRE, ClinicalTime.NEEDLE, ReferralNotFound, "Unknown referral"),
        (NEAR_CENTRE, ClinicalTime.DOOR_OUT, InvalidReferral, "not a stroke milestone"),
    ],
    ids=["a third hospital", "door-out at the receiving hospital"],
)
async def test_a_tap_that_cannot_be_right_is_refused(
    connection: Connection,
    hospital: str,
    kind: ClinicalTime,
    refusal: type[Exception],
    reason: str,
) -> None:
    referral_id = await _referral(connection)
    with pytest.raises(refusal, match=reason):
        await record_by_person(
            connection,
            referral_id=referral_id,
            kind=kind,
            hospital=hospital,
            person="x",
            now=datetime.now(UTC),
            context=CONTEXT,
        )


async def test_a_time_in_the_future_is_refused(connection: Connection) -> None:
    referral_id = await _referral(connection)
    now = datetime.now(UTC)
    with pytest.raises(InvalidReferral, match="future"):
        await record_by_person(
            connection,
            referral_id=referral_id,
            kind=ClinicalTime.NEEDLE,
            hospital=NEAR_CENTRE,
            person="x",
            now=now,
            occurred_at=now + timedelta(hours=1),
            context=CONTEXT,
        )
    assert await clock_repository.milestones(connection, referral_id=referral_id) != []


async def test_the_routing_preview_recommends_and_stores_nothing(connection: Connection) -> None:
    request = referral_request(owner_org="", patient_hn="", prealert=True)
    decision = await preview_route(connection, request=request, context=CONTEXT)
    assert decision.destination_id == NEAR_CENTRE
    assert decision.reasons
    assert await outbox_messages(connection, key=request.referral_id) == []
    count = await connection.fetchval(
        "SELECT count(*) FROM referral WHERE id = $1", request.referral_id
    )
    assert count == 0
