"""The KPI page (``/app/kpi``) and its CSV export (``/app/kpi.csv``): the monthly stroke
indicators of the person's hospital, or of every hospital of the province for an operator
(the same report as ``/reports/kpi`` for hospital systems)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from services.referral.domain.kpi import kpi_csv
from services.referral.entrypoints.deps import HospitalScopeDep, PersonDep, render
from services.referral.service.kpi_report import kpi_rows
from shared.limits import month_problem
from shared.runtime import RuntimeDep

router = APIRouter(include_in_schema=False)


def _checked_month(month: str | None) -> str | None:
    if not month:
        return None
    problem = month_problem(month)
    if problem is not None:
        raise HTTPException(400, problem)
    return month


@router.get("/app/kpi", response_class=HTMLResponse)
async def kpi_page(
    request: Request,
    runtime: RuntimeDep,
    person: PersonDep,
    scope: HospitalScopeDep,
    month: str | None = None,
) -> HTMLResponse:
    month = _checked_month(month)
    async with runtime.pool.acquire() as connection:
        every_month = await kpi_rows(connection, hospital_id=scope)
    rows = [row for row in every_month if month is None or row["month"] == month]
    return render(
        request,
        "app/kpi.html",
        person=person,
        scope=scope,
        rows=rows,
        month=month,
        months=sorted({str(row["month"]) for row in every_month}, reverse=True),
    )


@router.get("/app/kpi.csv")
async def kpi_export(
    runtime: RuntimeDep, scope: HospitalScopeDep, month: str | None = None
) -> Response:
    month = _checked_month(month)
    async with runtime.pool.acquire() as connection:
        rows = await kpi_rows(connection, hospital_id=scope, month=month)
    name = f"fasttrack-kpi-{scope or 'province'}{'-' + month if month else ''}.csv"
    return Response(
        kpi_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
