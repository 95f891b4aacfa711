"""The CapabilityStatement, the project's conformance resources over FHIR REST, and
``$validate`` for hospital systems.

GET /fhir/StructureDefinition, /fhir/ValueSet, /fhir/MessageDefinition, /fhir/CodeSystem (read,
and search by ``url``; no API key needed): what an integrator validates a message against before
sending it. POST
/fhir/Bundle/$validate with a message answers with the OperationOutcome the real send
($process-message, or Kafka) would give, without keeping anything: the message is applied in a
database transaction that is rolled back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from services.referral.adapters.fhir_capability import HOSPITAL_EVENTS, capability_statement
from services.referral.adapters.fhir_inbound import sender_mismatch, sent_by
from services.referral.adapters.fhir_resources import searchset
from services.referral.adapters.fhir_search import BadSearch
from services.referral.entrypoints.deps import ContextDep, fhir_base_url, refused_search
from services.referral.service import handlers
from shared.auth import CallerDep
from shared.errors import DomainError
from shared.fhir.conformance.catalogue import published
from shared.fhir.envelope import FhirMessage, InvalidMessage, parse_message
from shared.fhir.outcome import operation_outcome
from shared.runtime import RuntimeDep
from shared.web import FhirResponse, refusal_outcome

router = APIRouter(prefix="/fhir")

CONFORMANCE_TYPES = ("StructureDefinition", "ValueSet", "MessageDefinition", "CodeSystem")
VALID = "The message is valid: sent, it would be accepted"


def _catalogue() -> dict[str, dict[str, dict[str, Any]]]:
    return published(HOSPITAL_EVENTS)


def _read(resource_type: str, resource_id: str) -> FhirResponse:
    found = _catalogue()[resource_type].get(resource_id)
    if found is None:
        known = ", ".join(_catalogue()[resource_type])
        raise HTTPException(404, f"Unknown {resource_type} {resource_id[:60]!r}; known: {known}")
    return FhirResponse(found)


def _search(request: Request, base: str, resource_type: str) -> FhirResponse:
    urls: set[str] | None = None
    for name, value in request.query_params.multi_items():
        if name != "url":
            return refused_search(
                BadSearch(
                    f"Unknown search parameter {name[:60]!r}; supported: url",
                    issue_code="not-supported",
                )
            )
        if value.strip():
            wanted = {value.strip().split("|")[0]}
            urls = wanted if urls is None else urls & wanted
    found = [r for r in _catalogue()[resource_type].values() if urls is None or r["url"] in urls]
    return FhirResponse(
        searchset(
            base=base,
            resource_type=resource_type,
            resources=found,
            total=len(found),
            asked=request.url.query,
        )
    )


def _add_routes(resource_type: str) -> None:
    @router.get(f"/{resource_type}/{{resource_id}}", response_class=FhirResponse)
    async def read(resource_id: str) -> FhirResponse:
        return _read(resource_type, resource_id)

    @router.get(f"/{resource_type}", response_class=FhirResponse)
    async def search(request: Request, context: ContextDep) -> FhirResponse:
        return _search(request, fhir_base_url(context), resource_type)

    read.__doc__ = f"One of the project's {resource_type}s (no API key needed)."
    search.__doc__ = f"The project's {resource_type}s; ``url`` finds one by its canonical URL."


for _type in CONFORMANCE_TYPES:
    _add_routes(_type)


@router.get("/metadata", response_class=FhirResponse)
async def metadata(context: ContextDep) -> FhirResponse:
    """The CapabilityStatement (no API key needed)."""
    public_url = context.public_url.rstrip("/")
    return FhirResponse(capability_statement(fhir_base_url(context), public_url))


class _DryRun(Exception):
    """Rolls the validation transaction back: nothing of a validated message is kept."""


def sender_refusal(message: FhirMessage, caller: str) -> dict[str, Any] | None:
    """The OperationOutcome refusing a message not sent in the caller's own name."""
    if sent_by(message, caller):
        return None
    return operation_outcome(
        sender_mismatch(caller), code="forbidden", expression="MessageHeader.sender"
    )


@router.post("/Bundle/$validate", response_class=FhirResponse)
async def validate_message(
    request: Request, runtime: RuntimeDep, context: ContextDep, caller: CallerDep
) -> FhirResponse:
    """Validates a hospital system's message as the real send would: the answer is the same
    OperationOutcome ($process-message's 4xx body, or the fatal-error response's details on
    Kafka), or one information issue when the message would be accepted. Always 200: the
    OperationOutcome is the result of the operation."""
    try:
        message = parse_message(await request.body())
    except InvalidMessage as invalid:
        return FhirResponse(
            operation_outcome(
                invalid.reason, code=invalid.issue_code, expression=invalid.expression
            )
        )
    refused_sender = sender_refusal(message, caller)
    if refused_sender is not None:
        return FhirResponse(refused_sender)
    try:
        async with runtime.pool.acquire() as connection, connection.transaction():
            await handlers.apply_hospital_message(
                connection, message, context=context, now=datetime.now(UTC)
            )
            raise _DryRun
    except _DryRun:
        return FhirResponse(operation_outcome(VALID, code="informational", severity="information"))
    except DomainError as refused:
        return FhirResponse(refusal_outcome(refused))
