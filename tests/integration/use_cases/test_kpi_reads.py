"""The KPI report and the KPI gauges read a month of patients in a few statements, whatever their
number: one statement per patient (and two per patient for the report) made the gauges' round,
every minute, as many round trips as the month had patients, and a 30-minute soak at 20
referrals/s saw every referral's latency climb with them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider

from services.referral.adapters import clock_repository
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


class _CountingConnection:
    """The test's connection, noting each statement the code sends through it (a cursor's
    statement too, which asyncpg's query loggers do not see)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.sent: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._connection, name)
        if name not in {"fetch", "fetchrow", "fetchval", "execute", "executemany", "cursor"}:
            return attribute

        def noted(query: str, *args: Any, **kwargs: Any) -> Any:
            self.sent.append(" ".join(query.split())[:60])
            return attribute(query, *args, **kwargs)

        return noted


async def test_the_kpi_gauges_read_the_months_patients_in_one_statement_however_many(
    connection: Connection,
) -> None:
    counting = _CountingConnection(connection)
    gauges = KpiGauges(
        pool=OneConnectionPool(counting),  # type: ignore[arg-type]
        meter=MeterProvider().get_meter("kpi-test"),
        every_s=0,
    )

    async def statements_with(patients: int) -> list[str]:
        now = datetime.now(UTC)
        # This month's (the gauges count the current Bangkok month), a second apart.
        await _patients(connection, [now - timedelta(seconds=n + 1) for n in range(patients)])
        counting.sent.clear()
        await gauges.sample()
        return list(counting.sent)

    few = await statements_with(PATIENTS)
    assert ({"hospital": COMMUNITY}, float(PATIENTS)) in gauges.patients.readings()
    more = await statements_with(PATIENTS)

    assert ({"hospital": COMMUNITY}, float(2 * PATIENTS)) in gauges.patients.readings()
    assert len(few) == 1, few
    assert more == few


async def test_the_months_clocks_come_whole_whatever_rows_a_fetch_brings(
    connection: Connection,
) -> None:
    now = datetime.now(UTC)
    await _patients(connection, [now - timedelta(seconds=n + 1) for n in range(PATIENTS)])
    clock_ids = [
        row["clock_id"]
        for row in await connection.fetch(
            "SELECT clock_id FROM referral WHERE created_at > now() - interval '1 day'"
        )
    ]
    whole = await clock_repository.milestones_by_clock(connection, clock_ids=clock_ids)

    # A row at a time: every patient's milestones still come together, once each.
    streamed = [
        milestones
        async for milestones in clock_repository.each_recent_clock(
            connection, within=timedelta(days=1), rows_at_a_time=1
        )
    ]

    assert sorted(map(repr, streamed)) == sorted(map(repr, whole.values()))
    assert len(streamed) >= PATIENTS
