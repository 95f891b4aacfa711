"""The KPI report and the KPI gauges read a month of patients in a few statements, whatever their
number: one statement per patient (and two per patient for the report) made the gauges' round,
every minute, as many round trips as the month had patients, and a 30-minute soak at 20
referrals/s saw every referral's latency climb with them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from opentelemetry.sdk.metrics import MeterProvider

from services.referral.adapters.kpi_gauges import KpiGauges
from services.referral.domain.commands import ClinicalTime, ReportedTime
from services.referral.service.intake import request_referral
from services.referral.service.kpi_report import kpi_rows
from shared.db.pool import Connection
from shared.province_time import PROVINCE_ZONE
from tests.integration.use_cases.support import (
    COMMUNITY,
    CONTEXT,
    OneConnectionPool,
    referral_request,
)
from tests.use_case_database import sent_statements

PATIENTS = 5


async def _patients(connection: Connection, doors: list[datetime]) -> None:
    """A patient each, with its door-in time at the community hospital."""
    for door in doors:
        await request_referral(
            connection,
            request=referral_request(
                patient_hn=f"HN-{uuid.uuid4().hex[:8]}",
                last_known_well=None,
                reported_times=(ReportedTime(kind=ClinicalTime.DOOR_IN, occurred_at=door),),
                requested_at=door + timedelta(minutes=5),
            ),
            context=CONTEXT,
        )


async def test_the_kpi_report_reads_any_number_of_patients_in_three_statements(
    connection: Connection,
) -> None:
    # A month of its own, long ago, so no other test's patients share the KPI row.
    first_door = datetime(2003, 3, 10, 9, 0, tzinfo=PROVINCE_ZONE)
    await _patients(connection, [first_door + timedelta(hours=n) for n in range(PATIENTS)])

    async with sent_statements(connection) as sent:
        (row,) = await kpi_rows(connection, hospital_id=COMMUNITY, month="2003-03")

    assert row["patients"] == PATIENTS
    assert len(sent) == 3, sent


async def test_the_kpi_gauges_read_the_months_patients_in_one_statement(
    connection: Connection,
) -> None:
    now = datetime.now(UTC)
    # This month's (the gauges count the current Bangkok month), a second apart.
    await _patients(connection, [now - timedelta(seconds=n + 1) for n in range(PATIENTS)])
    gauges = KpiGauges(
        pool=OneConnectionPool(connection),  # type: ignore[arg-type]
        meter=MeterProvider().get_meter("kpi-test"),
        every_s=60,
    )

    async with sent_statements(connection) as sent:
        await gauges.sample()

    assert ({"hospital": COMMUNITY}, float(PATIENTS)) in gauges.patients.readings()
    assert len(sent) == 1, sent
