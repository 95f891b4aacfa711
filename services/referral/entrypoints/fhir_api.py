"""FHIR REST for hospital systems: read and search of the referral Task and ServiceRequest.

A hospital sees only the referrals it sends or receives (the Task's requester or owner). Search
follows the R4B specification (adapters/fhir_search.py); the resources are rendered and validated
in adapters/fhir_resources.py. Every read and search is kept in the audit log.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from services.referral.adapters import audit, referral_search
from services.referral.adapters.fhir_resources import (
    SERVICE_REQUEST_PREFIX,
    searchset,
    service_request_json,
    task_json,
)
from services.referral.adapters.fhir_search import (
    BadSearch,
    Parameter,
    parse_search,
    search_parameters,
    wants_lenient,
)
from services.referral.domain.model import ReferralSnapshot
from services.referral.entrypoints.deps import (
    ContextDep,
    ensure_party,
    fhir_base_url,
    refused_search,
)
from shared.auth import CallerDep
from shared.runtime import RuntimeDep, ServiceRuntime
from shared.web import FhirResponse

router = APIRouter(prefix="/fhir")
TASK_SEARCH, SERVICE_REQUEST_SEARCH = search_parameters(lambda: datetime.now(UTC))


async def _read(
    runtime: ServiceRuntime, referral_id: str, caller: str, via: str
) -> ReferralSnapshot | None:
    async with runtime.pool.acquire() as connection:
        _, found = await referral_search.search_referrals(
            connection, party=None, referral_ids=[referral_id], limit=1
        )
        if not found:
            return None
        ensure_party(found[0].referral, caller)
        await audit.record_reads(
            connection, caller=caller, referral_ids=[referral_id], action=audit.READ, via=via
        )
    return found[0]


async def _search(
    request: Request,
    runtime: ServiceRuntime,
    base: str,
    caller: str,
    *,
    resource_type: str,
    parameters: Mapping[str, Parameter],
    to_json: Callable[[ReferralSnapshot], dict[str, Any]],
) -> FhirResponse:
    try:
        query = parse_search(
            request.query_params.multi_items(),
            parameters,
            base=base,
            lenient=wants_lenient(request.headers.get("prefer")),
        )
    except BadSearch as bad:
        return refused_search(bad)

    def listed(values: set[str] | None) -> list[str] | None:
        return sorted(values) if values is not None else None

    async with runtime.pool.acquire() as connection:
        total, found = await referral_search.search_referrals(
            connection,
            party=caller,
            referral_ids=listed(query.referral_ids),
            statuses=listed(query.statuses),
            owners=listed(query.owners),
            requesters=listed(query.requesters),
            last_updated=query.last_updated,
            limit=query.count,
            offset=query.offset,
        )
        ids = [snapshot.referral.id for snapshot in found]
        via = f"GET /fhir/{resource_type}"
        await audit.record_reads(
            connection, caller=caller, referral_ids=ids, action=audit.SEARCH, via=via
        )
    bundle = searchset(
        base=base,
        resource_type=resource_type,
        resources=[to_json(snapshot) for snapshot in found],
        total=total,
        query=query,
    )
    return FhirResponse(bundle)


@router.get("/Task/{task_id}", response_class=FhirResponse)
async def read_task(task_id: str, runtime: RuntimeDep, caller: CallerDep) -> FhirResponse:
    """The referral Task, for the two hospitals it is between."""
    snapshot = await _read(runtime, task_id, caller, "GET /fhir/Task/{task_id}")
    if snapshot is None:
        raise HTTPException(404, f"Unknown Task {task_id[:80]!r}")
    return FhirResponse(task_json(snapshot))


@router.get("/Task", response_class=FhirResponse)
async def search_tasks(
    request: Request, runtime: RuntimeDep, context: ContextDep, caller: CallerDep
) -> FhirResponse:
    """Search the caller's referral Tasks: status, owner, requester, patient, _lastUpdated."""
    return await _search(
        request,
        runtime,
        fhir_base_url(context),
        caller,
        resource_type="Task",
        parameters=TASK_SEARCH,
        to_json=task_json,
    )


@router.get("/ServiceRequest/{request_id}", response_class=FhirResponse)
async def read_service_request(
    request_id: str, runtime: RuntimeDep, caller: CallerDep
) -> FhirResponse:
    """The referral's ServiceRequest (``sr-<referral id>``)."""
    snapshot = None
    if request_id.startswith(SERVICE_REQUEST_PREFIX):
        referral_id = request_id.removeprefix(SERVICE_REQUEST_PREFIX)
        snapshot = await _read(
            runtime, referral_id, caller, "GET /fhir/ServiceRequest/{request_id}"
        )
    if snapshot is None:
        raise HTTPException(404, f"Unknown ServiceRequest {request_id[:80]!r}")
    return FhirResponse(service_request_json(snapshot))


@router.get("/ServiceRequest", response_class=FhirResponse)
async def search_service_requests(
    request: Request, runtime: RuntimeDep, context: ContextDep, caller: CallerDep
) -> FhirResponse:
    """Search the caller's referral ServiceRequests: status, requester, performer, patient,
    _lastUpdated."""
    return await _search(
        request,
        runtime,
        fhir_base_url(context),
        caller,
        resource_type="ServiceRequest",
        parameters=SERVICE_REQUEST_SEARCH,
        to_json=service_request_json,
    )
