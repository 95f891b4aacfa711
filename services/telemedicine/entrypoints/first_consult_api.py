"""Consult first over REST, for hospital systems (API key): ``POST /fhir/$process-message``
with a teleconsult-requested message whose Task is part of no referral (the spoke asks the
hub's consultant before referring). The answer is the response message (``ok``, the consult
Task paging the on-call consultant), or a 4xx OperationOutcome saying what is wrong. The same
message on the hospital's Kafka topic does the same (entrypoints/consumers.py).

The hospital's Task id keys the consult: the same request sent again is one consult."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request

from services.telemedicine.adapters import first_consult_fhir
from services.telemedicine.adapters.fhir_mapping import consult_task
from services.telemedicine.entrypoints.deps import ContextDep
from services.telemedicine.service import first_consult
from shared.auth import CallerDep
from shared.errors import NotSupported
from shared.fhir.codes import NETWORK_ORGANIZATION, EventCode
from shared.fhir.envelope import parse_message
from shared.fhir.references import organization_id
from shared.fhir.responses import response_message
from shared.limits import InputLimits
from shared.runtime import RuntimeDep
from shared.web import FhirResponse, outcome_response

router = APIRouter()


@router.post("/fhir/$process-message", response_class=FhirResponse)
async def process_message(
    request: Request, runtime: RuntimeDep, context: ContextDep, caller: CallerDep
) -> FhirResponse:
    """A teleconsult asked before any referral; referrals go to the referral service."""
    message = parse_message(await request.body(), InputLimits.from_settings(runtime.settings))
    if organization_id(message.sender) != caller:
        return outcome_response(
            403,
            f"MessageHeader.sender must be your organization (Organization/{caller})",
            code="forbidden",
            expression="MessageHeader.sender",
        )
    if message.event is not EventCode.TELECONSULT_REQUESTED or not first_consult_fhir.asks_first(
        message
    ):
        raise NotSupported(
            "The telemedicine service takes teleconsult-requested without a referral (no "
            "Task.partOf); send referrals to the referral service"
        )
    async with runtime.pool.acquire() as connection, connection.transaction():
        consult = await first_consult.ask_from_message(
            connection, message, context=context, now=datetime.now(UTC)
        )
    answer = response_message(
        message,
        code="ok",
        responder=NETWORK_ORGANIZATION,
        source_endpoint=context.source_endpoint,
        focus=[consult_task(consult)],
    )
    return FhirResponse(answer.to_dict())
