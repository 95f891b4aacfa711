"""The development referral form (GET /referrals/new, POST /referrals), for a hospital's API key:
a browser asks for it (HTTP Basic, the key as the password). The clinicians' web app, with its
own login, replaces it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from services.referral.adapters import repository
from services.referral.domain.commands import RequestReferral
from services.referral.entrypoints.deps import ContextDep, PagesDep
from services.referral.service import intake
from services.referral.service.context import ReferralContext
from shared.auth import FormCallerDep
from shared.limits import NO_CONTROLS
from shared.province_time import PROVINCE_ZONE
from shared.runtime import RuntimeDep, ServiceRuntime

router = APIRouter()


async def _store(
    runtime: ServiceRuntime, referral_request: RequestReferral, context: ReferralContext
) -> str:
    async with runtime.pool.acquire() as connection, connection.transaction():
        return await intake.request_referral(connection, request=referral_request, context=context)


@router.post("/referrals", response_class=HTMLResponse, status_code=303)
async def submit_referral_form(
    runtime: RuntimeDep,
    context: ContextDep,
    caller: FormCallerDep,
    owner: Annotated[str, Form(min_length=1, max_length=64, pattern=NO_CONTROLS)],
    hospital_number: Annotated[str, Form(min_length=1, max_length=32, pattern=NO_CONTROLS)],
    nihss: Annotated[int | None, Form(ge=0, le=42)] = None,
    last_known_well: Annotated[datetime | None, Form()] = None,
    suspected_lvo: Annotated[bool, Form()] = False,
    teleconsult: Annotated[bool, Form()] = False,
    requester: Annotated[str | None, Form(max_length=64)] = None,
) -> RedirectResponse:
    """The clinicians' form: the same use case as the FHIR path, from form fields, in the name
    of the caller's hospital only."""
    if requester not in (None, caller):
        raise HTTPException(403, f"A referral from your hospital only ({caller})")
    if last_known_well is not None and last_known_well.tzinfo is None:
        # A datetime-local field has no zone: the clinician means the province's clock.
        last_known_well = last_known_well.replace(tzinfo=PROVINCE_ZONE)
    referral_request = RequestReferral(
        referral_id=str(uuid.uuid4()),
        request_message_id=str(uuid.uuid4()),
        requester_org=caller,
        owner_org=owner,
        patient_hn=hospital_number,
        last_known_well=last_known_well,
        nihss=nihss,
        suspected_lvo=suspected_lvo,
        teleconsult_requested=teleconsult,
        requested_at=datetime.now(UTC),
    )
    referral_id = await _store(runtime, referral_request, context)
    return RedirectResponse(f"/referrals/{referral_id}", status_code=303)


@router.get("/referrals/new", response_class=HTMLResponse)
async def referral_form(
    request: Request, runtime: RuntimeDep, pages: PagesDep, caller: FormCallerDep
) -> HTMLResponse:
    async with runtime.pool.acquire() as connection:
        hospitals = await repository.directory(connection)
    requester = next((h.name for h in hospitals if h.id == caller), caller)
    return pages.TemplateResponse(
        request, "referral_form.html", {"hospitals": hospitals, "requester": requester}
    )
