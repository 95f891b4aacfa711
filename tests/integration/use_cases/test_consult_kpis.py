"""The KPI report's consult times read every referral of the patient: a re-routed referral's
consult counts for the spoke like the first referral's."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from services.referral.domain.commands import ClinicalTime, RecordStep, ReportedTime
from services.referral.service.handlers import record_step
from services.referral.service.intake import request_referral
from services.referral.service.kpi_report import kpi_rows
from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.province_time import PROVINCE_ZONE
from tests.integration.use_cases.support import (
    COMMUNITY,
    CONTEXT,
    FAR_CENTRE,
    referral_request,
)

# A month of its own, long ago, so no other test's patients share the KPI row.
DOOR = datetime(2003, 2, 10, 9, 0, tzinfo=PROVINCE_ZONE)
MONTH = "2003-02"


def _consult_step(
    referral_id: str, consult: str, event: EventCode, minutes: int, stage: str
) -> RecordStep:
    return RecordStep(
        referral_id=referral_id,
        event=event,
        source="https://fasttrack.test/telemedicine",
        message_id=str(uuid.uuid4()),
        occurred_at=DOOR + timedelta(minutes=minutes),
        detail={"consult": consult, "stage": stage},
    )


async def test_the_consult_of_a_re_routed_referral_counts_in_the_spokes_kpis(
    connection: Connection,
) -> None:
    door_in = ReportedTime(kind=ClinicalTime.DOOR_IN, occurred_at=DOOR)
    first = await request_referral(
        connection,
        request=referral_request(
            last_known_well=None,
            reported_times=(door_in,),
            requested_at=DOOR + timedelta(minutes=5),
        ),
        context=CONTEXT,
    )
    # The first hub declined; the patient went on to another on the same clock, and that
    # referral carried the teleconsult.
    second = await request_referral(
        connection,
        request=referral_request(
            owner_org=FAR_CENTRE,
            last_known_well=None,
            replaces=first,
            requested_at=DOOR + timedelta(minutes=9),
        ),
        context=CONTEXT,
    )
    for event, minutes, stage in (
        (EventCode.TELECONSULT_REQUESTED, 10, "requested"),
        (EventCode.TELECONSULT_UPDATED, 13, "accepted"),
        (EventCode.TELECONSULT_UPDATED, 16, "in-video"),
        (EventCode.TELECONSULT_RECOMMENDED, 26, "recommended"),
    ):
        await record_step(connection, step=_consult_step(second, "tc-2", event, minutes, stage))

    (row,) = await kpi_rows(connection, hospital_id=COMMUNITY, month=MONTH)

    assert {column: value for column, value in row.items() if "consult" in column} == {
        "consult_count": 1,
        "door_to_consult_request_le_15_pct": 100.0,
        "door_to_consult_request_median_min": 10.0,
        "consult_request_to_ack_median_min": 3.0,
        "consult_ack_to_video_median_min": 3.0,
        "consult_video_to_decision_median_min": 10.0,
    }
