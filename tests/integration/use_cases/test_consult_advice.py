"""What a teleconsult's advice starts in the referral service: a recommendation to transfer for
thrombectomy starts the transfer referral (once, on the patient's clock, linked both ways); an
unknown centre is refused on the timeline, the advice kept; the spoke's confirmation of the
recommended thrombolysis records the needle in its name, once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.referral.adapters import clock_repository, repository, timeline_repository
from services.referral.domain.commands import RecordStep
from services.referral.service.confirmed_needle import record_confirmed_needle
from services.referral.service.handlers import record_step
from services.referral.service.intake import request_referral
from services.referral.service.transfers import start_recommended_transfer
from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.vocabulary.milestones import MilestoneCode
from tests.integration.use_cases.support import (
    COMMUNITY,
    CONTEXT,
    FAR_CENTRE,
    NEAR_CENTRE,
    referral_request,
)


def _advice(referral_id: str, event: EventCode, **outputs: object) -> RecordStep:
    return RecordStep(
        referral_id=referral_id,
        event=event,
        source="https://fasttrack.test/telemedicine",
        message_id=str(uuid.uuid4()),
        occurred_at=datetime.now(UTC),
        detail={"consult": f"tc-{referral_id}", "stage": "recommended", "recommendation": outputs},
    )


def _transfer_to(referral_id: str, centre: str) -> RecordStep:
    return _advice(
        referral_id,
        EventCode.TELECONSULT_RECOMMENDED,
        thrombolysis="do-not-give",
        **{"thrombectomy-transfer": True, "target-centre": f"Organization/{centre}"},
    )


async def _referral(connection: Connection) -> str:
    return await request_referral(
        connection, request=referral_request(teleconsult_requested=True), context=CONTEXT
    )


async def _links(connection: Connection, referral_id: str) -> list[dict[str, object]]:
    return [
        entry.detail
        for entry in await timeline_repository.timeline(connection, referral_id=referral_id)
        if entry.event_code == EventCode.TRANSFER_REQUESTED.value
    ]


async def test_advice_to_transfer_starts_one_transfer_referral_on_the_patients_clock(
    connection: Connection,
) -> None:
    referral_id = await _referral(connection)
    advice = _transfer_to(referral_id, FAR_CENTRE)
    await record_step(connection, step=advice)

    now = datetime.now(UTC)
    transfer_id = await start_recommended_transfer(
        connection, step=advice, context=CONTEXT, now=now
    )
    again = await start_recommended_transfer(connection, step=advice, context=CONTEXT, now=now)

    assert transfer_id is not None
    assert again == transfer_id
    transfer = await repository.get_referral(connection, referral_id=transfer_id)
    assert transfer is not None
    assert (transfer.requester_org, transfer.owner_org, transfer.replaces) == (
        COMMUNITY,
        FAR_CENTRE,
        None,
    )
    # The patient's clock is shared: the transfer is one of the patient's referrals.
    chain = await clock_repository.patient_referrals(connection, referral_id=transfer_id)
    assert [r.id for r in chain] == [referral_id, transfer_id]
    assert await _links(connection, referral_id) == [
        {
            "transfer_of": referral_id,
            "consult": f"tc-{referral_id}",
            "to": FAR_CENTRE,
            "transfer": transfer_id,
        }
    ]
    (requested,) = [
        e
        for e in await timeline_repository.timeline(connection, referral_id=transfer_id)
        if e.event_code == EventCode.REFERRAL_REQUESTED.value
    ]
    assert requested.detail["transfer_of"] == referral_id


async def test_advice_without_a_transfer_or_to_the_hub_already_asked_starts_nothing(
    connection: Connection,
) -> None:
    referral_id = await _referral(connection)
    now = datetime.now(UTC)
    no_transfer = _advice(referral_id, EventCode.TELECONSULT_RECOMMENDED, thrombolysis="give")
    to_the_hub = _transfer_to(referral_id, NEAR_CENTRE)

    for advice in (no_transfer, to_the_hub):
        assert (
            await start_recommended_transfer(connection, step=advice, context=CONTEXT, now=now)
            is None
        )
    assert await _links(connection, referral_id) == []


async def test_a_transfer_to_an_unknown_centre_is_shown_refused_and_the_advice_kept(
    connection: Connection,
) -> None:
    referral_id = await _referral(connection)
    advice = _transfer_to(referral_id, "uc-nowhere")
    await record_step(connection, step=advice)

    started = await start_recommended_transfer(
        connection, step=advice, context=CONTEXT, now=datetime.now(UTC)
    )

    assert started is None
    (refused,) = await _links(connection, referral_id)
    assert str(refused["outcome"]).startswith("not started: Unknown receiving organization")
    events = [
        e.event_code
        for e in await timeline_repository.timeline(connection, referral_id=referral_id)
    ]
    assert EventCode.TELECONSULT_RECOMMENDED.value in events


async def test_the_spokes_confirmation_records_the_needle_in_its_name_once(
    connection: Connection,
) -> None:
    referral_id = await _referral(connection)
    needle_at = datetime.now(UTC) - timedelta(minutes=2)
    confirmed = _advice(
        referral_id,
        EventCode.TELECONSULT_UPDATED,
        version=1,
        needle=needle_at.isoformat(),
        **{"needle-confirmed-by": "nurse.a"},
    )
    now = datetime.now(UTC)

    first = await record_confirmed_needle(connection, step=confirmed, context=CONTEXT, now=now)
    second = await record_confirmed_needle(connection, step=confirmed, context=CONTEXT, now=now)

    assert (first, second) == (True, False)
    (needle,) = [
        m
        for m in await clock_repository.milestones(connection, referral_id=referral_id)
        if m.code is MilestoneCode.NEEDLE
    ]
    assert (needle.occurred_at, needle.hospital) == (needle_at, COMMUNITY)
    (entry,) = [
        e
        for e in await timeline_repository.timeline(connection, referral_id=referral_id)
        if e.detail.get("milestone") == MilestoneCode.NEEDLE.value
    ]
    assert entry.detail["recorded_by"] == "nurse.a"
