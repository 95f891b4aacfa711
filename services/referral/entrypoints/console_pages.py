"""The operators' console (``/app/console/``): every hospital's referrals as ids, hospitals,
states and times, never patient data; for the network's operators only (anyone else: 403).

This page is the console's shell: the live board of referrals (each hop's time and latency,
a link to the referral's trace in the trace UI) and the stuck ones (where they stopped). Its
other pages (console_health.py, console_dead_letters.py, console_audit.py) share its
navigation; what only another service knows (the notifier's undelivered pages, each service's
outbox) comes from that service's own fragment under ``/app/console/<service>/`` through the
proxy (docs/architecture.md, "The operators' console").
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from services.referral.domain.console import Hop
from services.referral.entrypoints.deps import ConsoleSettingsDep, OperatorPersonDep, render
from services.referral.service.console_view import console_board
from shared.runtime import RuntimeDep

router = APIRouter(include_in_schema=False)

CONSOLE_PATH = "/app/console/"
# What a search box may hold: a FHIR id (a referral or an Organization). Anything else finds
# nothing rather than reaching the query.
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


def searched_id(value: str | None) -> str | None:
    value = (value or "").strip()
    return value if value else None


def valid_id(value: str | None) -> bool:
    return value is None or _FHIR_ID.fullmatch(value) is not None


@router.get("/app/console", include_in_schema=False)
async def console_without_slash() -> RedirectResponse:
    return RedirectResponse(CONSOLE_PATH, status_code=303)


@router.get(CONSOLE_PATH, response_class=HTMLResponse)
async def console_page(
    request: Request,
    runtime: RuntimeDep,
    console: ConsoleSettingsDep,
    person: OperatorPersonDep,
    referral: str | None = None,
    hospital: str | None = None,
) -> HTMLResponse:
    referral_id, hospital_id = searched_id(referral), searched_id(hospital)
    if valid_id(referral_id) and valid_id(hospital_id):
        async with runtime.pool.acquire() as connection:
            board = await console_board(
                connection,
                now=datetime.now(UTC),
                stuck_after=console.stuck_after,
                referral_id=referral_id,
                hospital=hospital_id,
            )
        flows, stuck = board.flows, board.stuck
    else:
        flows, stuck = [], []
    return render(
        request,
        "app/console/referrals.html",
        person=person,
        flows=flows,
        stuck=stuck,
        hops=list(Hop),
        searched_referral=referral_id or "",
        searched_hospital=hospital_id or "",
        stuck_after_min=f"{console.stuck_after.total_seconds() / 60:g}",
        trace_ui_url=console.trace_ui_url,
    )
