"""What clinicians and the quality team read: a referral with its patient's clock (milestones,
metrics, treatment windows, timeline), and the monthly KPI report. Times on the Bangkok clock
to the second; durations in whole minutes (and H:MM)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse, Response

from services.referral.adapters import audit, repository, timeline_repository
from services.referral.domain.clock import Milestone
from services.referral.domain.kpi import kpi_csv
from services.referral.domain.metrics import Metric, compute_metrics, window_countdowns
from services.referral.domain.readable_time import h_mm, local_iso
from services.referral.entrypoints.deps import ensure_party
from services.referral.service.kpi_report import kpi_rows
from services.referral.service.patient_clock import clock_seen_by
from shared.auth import CallerDep
from shared.db.pool import one_moment
from shared.fhir.codes import EVENT_TERMS, EventCode
from shared.limits import month_problem
from shared.runtime import RuntimeDep
from shared.web import outcome_response

router = APIRouter()


def _metric(metric: Metric) -> dict[str, Any]:
    return {**asdict(metric), "duration": h_mm(metric.minutes)}


def _milestone(milestone: Milestone) -> dict[str, Any]:
    return {
        "code": milestone.code.value,
        "occurred_at": local_iso(milestone.occurred_at),
        "recorded_at": local_iso(milestone.recorded_at),
        "source": milestone.source.value,
        "uncertain": milestone.doubtful,
        "hospital": milestone.hospital,
    }


def _metrics(milestones: list[Milestone]) -> tuple[dict[str, Any], str | None]:
    """The metrics, or none and the reason when two times contradict each other."""
    try:
        return {c: _metric(m) for c, m in compute_metrics(milestones).items()}, None
    except ValueError as contradiction:
        return {}, str(contradiction)


@router.get("/referrals/{referral_id}", response_class=JSONResponse)
async def read_referral(referral_id: str, runtime: RuntimeDep, caller: CallerDep) -> JSONResponse:
    """The referral and its timeline, for the two hospitals it is between; milestones, metrics
    and windows are the patient's, across every referral it took (``patient_referrals``)."""
    # The referral, its timeline and its clock as of one moment (and the read's audit row).
    async with runtime.pool.acquire() as connection, one_moment(connection, writes=True):
        referral = await repository.get_referral(connection, referral_id=referral_id)
        if referral is None:
            raise HTTPException(404, f"No referral {referral_id!r}")
        ensure_party(referral, caller)
        await audit.record_reads(
            connection,
            caller=caller,
            referral_ids=[referral_id],
            action=audit.READ,
            via="GET /referrals/{referral_id}",
        )
        steps = await timeline_repository.timeline(connection, referral_id=referral_id)
        milestones, chain = await clock_seen_by(connection, referral=referral, viewer=caller)
    metrics, clock_error = _metrics(milestones)
    return JSONResponse(
        {
            "id": referral.id,
            "status": referral.status.value,
            "requester": referral.requester_org,
            "owner": referral.owner_org,
            "teleconsult_requested": referral.teleconsult_requested,
            "accept_by": local_iso(referral.accept_by) if referral.accept_by else None,
            "routing": referral.routing,
            "replaces": referral.replaces,
            "replaced_by": referral.replaced_by,
            "patient_referrals": [
                {
                    "id": link.id,
                    "status": link.status.value,
                    "owner": link.owner_org,
                    "requested_at": local_iso(link.created_at),
                    "replaces": link.replaces,
                    "replaced_by": link.replaced_by,
                }
                for link in chain
            ],
            "milestones": [_milestone(m) for m in milestones],
            "metrics": metrics,
            **({"clock_error": clock_error} if clock_error else {}),
            "windows": [
                {**asdict(w), "closes_at": local_iso(w.closes_at)}
                for w in window_countdowns(milestones, now=datetime.now(UTC))
            ],
            "timeline": [
                {
                    "event": step.event_code,
                    "display": EVENT_TERMS[EventCode(step.event_code)].english,
                    # When it happened clinically, and apart from it when it was recorded.
                    "occurred_at": local_iso(step.occurred_at),
                    "recorded_at": local_iso(step.recorded_at),
                    "source": step.source,
                    "detail": step.detail,
                }
                for step in steps
            ],
        }
    )


@router.get("/reports/kpi", response_class=JSONResponse)
async def kpi(
    runtime: RuntimeDep, caller: CallerDep, month: str | None = None, format: str = "json"
) -> Response:
    """The caller's stroke KPIs per month (docs/clinical-metrics.md): each patient it sent or
    received counted once, on the times that happened at the caller's hospital."""
    if format not in ("json", "csv"):
        return outcome_response(
            400, "format must be 'json' or 'csv'", code="value", expression="format"
        )
    problem = month_problem(month) if month is not None else None
    if problem is not None:
        return outcome_response(400, problem, code="value", expression="month")
    async with runtime.pool.acquire() as connection:
        rows = await kpi_rows(connection, hospital_id=caller, month=month)
    if format == "csv":
        return Response(kpi_csv(rows), media_type="text/csv; charset=utf-8")
    return JSONResponse(rows)
