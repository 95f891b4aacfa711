"""The monthly stroke KPI report of one hospital, or of the whole province for its operators
(domain/kpi.py computes it; this reads the patients' clocks together)."""

from __future__ import annotations

import contextlib

from services.referral.adapters import clock_repository, timeline_repository
from services.referral.domain.kpi import HospitalOutcome, kpi_report, outcomes_of
from shared.db.pool import Connection


async def kpi_rows(
    connection: Connection, *, hospital_id: str | None, month: str | None = None
) -> list[dict[str, object]]:
    """One row per (hospital, month): ``hospital_id``'s own (each patient it sent or received
    counted once, on the times that happened there), or every hospital's when None. Three
    statements whatever the number of patients."""
    clock_ids = await clock_repository.clocks_of(connection, organization_id=hospital_id)
    milestones = await clock_repository.milestones_by_clock(connection, clock_ids=clock_ids)
    # Every referral of the patient: a re-routed one may carry the consult.
    steps = await timeline_repository.clock_timelines(connection, clock_ids=clock_ids)
    outcomes: list[HospitalOutcome] = []
    for clock_id in clock_ids:
        with contextlib.suppress(ValueError):  # two times contradict: not countable
            outcomes.extend(
                o
                for o in outcomes_of(milestones.get(clock_id, []), steps.get(clock_id, []))
                if hospital_id in (None, o.hospital_id)
            )
    return [row for row in kpi_report(outcomes) if month is None or row["month"] == month]
