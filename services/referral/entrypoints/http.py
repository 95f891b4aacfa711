"""HTTP entry points: FHIR $process-message, the referral web form, the timeline."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel

from services.referral.adapters import fhir_inbound, repository
from services.referral.adapters.fhir_mapping import referral_task
from services.referral.domain.model import (
    InvalidReferral,
    NotAParty,
    Referral,
    ReferralNotFound,
    RequestReferral,
)
from services.referral.entrypoints.deps import ContextDep, PagesDep
from services.referral.service import handlers, intake
from services.referral.service.context import ReferralContext
from shared.auth import CallerDep, FormCallerDep
from shared.db.pool import Connection
from shared.fhir.codes import (
    NETWORK_ORGANIZATION,
)
from shared.fhir.envelope import FhirMessage, parse_message
from shared.fhir.models import Task
from shared.fhir.responses import response_message
from shared.limits import NO_CONTROLS, InputLimits
from shared.messaging.inbox import Claim, claim_message, content_digest, reused_id_reason
from shared.province_time import PROVINCE_ZONE
from shared.runtime import RuntimeDep, ServiceRuntime
from shared.web import FhirResponse, outcome_response

router = APIRouter()
# The development form, for a hospital's API key (a browser asks for it: HTTP Basic, the key as
# the password); the clinicians' web app, with its own login, replaces it.
form_router = APIRouter()


# One message parsed at a time, in a worker thread: the event loop competes for the interpreter
# with one parser at most, so /health and the consumers keep their turn (see
# bench/health_under_input.py); the others wait their turn off the loop.
_PARSING = asyncio.Semaphore(1)


def _parse_and_digest(body: bytes, limits: InputLimits) -> tuple[FhirMessage, str]:
    message = parse_message(body, limits)
    return message, content_digest(message)


@router.post("/fhir/$process-message", response_class=FhirResponse)
async def process_message(
    request: Request, runtime: RuntimeDep, context: ContextDep, caller: CallerDep
) -> FhirResponse:
    """FHIR messaging over REST, for hospital systems that cannot speak Kafka.

    The same use cases as the Kafka inbound topic; the answer is the response message (``ok``,
    the Task in its new state), or a 4xx OperationOutcome saying why the message was refused.
    A message sent again (same sender, MessageHeader.id and content) is answered without being
    applied twice; the sender's id reused for other content is refused (409).
    """
    # Off the event loop: the largest accepted message still takes milliseconds of CPU, and
    # /health, the consumers and every other request keep being served meanwhile.
    limits = InputLimits.from_settings(runtime.settings)
    async with _PARSING:
        message, digest = await asyncio.to_thread(_parse_and_digest, await request.body(), limits)
    if not fhir_inbound.sent_by(message, caller):
        return outcome_response(
            403,
            fhir_inbound.sender_mismatch(caller),
            code="forbidden",
            expression="MessageHeader.sender",
        )
    try:
        async with runtime.pool.acquire() as connection, connection.transaction():
            claim = await claim_message(
                connection, message=message, topic=PROCESS_MESSAGE_INBOX, digest=digest
            )
            if claim is Claim.REUSED_ID:
                return outcome_response(
                    409,
                    reused_id_reason(message),
                    code="duplicate",
                    expression="MessageHeader.id",
                )
            if claim is Claim.FIRST:
                focus = await handlers.apply_hospital_message(
                    connection, message, context=context, now=datetime.now(UTC)
                )
            else:
                focus = referral_task(await _referral_of(connection, message, caller))
    except handlers.REFUSAL_TYPES as refused:
        status, issue_code, reason = handlers.describe_refusal(refused)
        return outcome_response(
            status, reason, code=issue_code, expression=handlers.refusal_expression(refused)
        )
    answer = response_message(
        message,
        code="ok",
        responder=NETWORK_ORGANIZATION,
        source_endpoint=context.source_endpoint,
        focus=[focus],
    )
    return FhirResponse(answer.bundle.model_dump(mode="json", exclude_none=True))


class AvailabilityUpdate(BaseModel):
    """What is out of service right now, e.g. ["ct-24h"] while the CT scanner is down."""

    unavailable: list[str]


@router.put("/directory/{organization_id}/availability", response_class=JSONResponse)
async def update_availability(
    organization_id: str, update: AvailabilityUpdate, runtime: RuntimeDep, caller: CallerDep
) -> JSONResponse:
    try:
        async with runtime.pool.acquire() as connection, connection.transaction():
            await handlers.set_availability(
                connection,
                organization_id=organization_id,
                sender_org=caller,
                unavailable=update.unavailable,
            )
    except handlers.REFUSAL_TYPES as refused:
        status, issue_code, reason = handlers.describe_refusal(refused)
        return outcome_response(status, reason, code=issue_code)
    return JSONResponse({"id": organization_id, "unavailable": sorted(set(update.unavailable))})


@router.get("/directory", response_class=JSONResponse)
async def directory(runtime: RuntimeDep, caller: CallerDep) -> JSONResponse:
    """The hospitals of the network with their capabilities and what is out of service now."""
    async with runtime.pool.acquire() as connection:
        rows = await repository.directory_rows(connection)
    return JSONResponse([dict(row) for row in rows])


# Inbox "topic" of messages received over REST: one de-duplication space with Kafka's ids.
PROCESS_MESSAGE_INBOX = "http:$process-message"


async def _referral_of(connection: Connection, message: FhirMessage, caller: str) -> Referral:
    """The referral a message the caller sent before was about (for answering a repeat)."""
    referral_id = await repository.referral_id_for_request(
        connection, requester_org=caller, request_message_id=message.message_id
    )
    if referral_id is None:
        task = message.focus_resource(Task)
        referral_id = str(task.id) if task is not None else ""
    referral = await repository.get_referral(connection, referral_id=referral_id)
    if referral is None:
        raise ReferralNotFound(referral_id)
    if caller not in (referral.requester_org, referral.owner_org):
        raise NotAParty("This referral is between other hospitals")
    return referral


async def _store(
    runtime: ServiceRuntime, referral_request: RequestReferral, context: ReferralContext
) -> str:
    try:
        async with runtime.pool.acquire() as connection, connection.transaction():
            return await intake.request_referral(
                connection, request=referral_request, context=context
            )
    except handlers.REFUSAL_TYPES as refused:
        status, _, reason = handlers.describe_refusal(refused)
        raise HTTPException(status, reason) from None


@form_router.post("/referrals", response_class=HTMLResponse, status_code=303)
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
    try:
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
    except InvalidReferral as invalid:
        raise HTTPException(422, invalid.reason) from None
    referral_id = await _store(runtime, referral_request, context)
    return RedirectResponse(f"/referrals/{referral_id}", status_code=303)


@form_router.get("/referrals/new", response_class=HTMLResponse)
async def referral_form(
    request: Request, runtime: RuntimeDep, pages: PagesDep, caller: FormCallerDep
) -> HTMLResponse:
    async with runtime.pool.acquire() as connection:
        hospitals = await repository.list_organizations(connection)
    requester = next((h["name"] for h in hospitals if h["id"] == caller), caller)
    return pages.TemplateResponse(
        request, "referral_form.html", {"hospitals": hospitals, "requester": requester}
    )
