"""FHIR REST for hospital systems: read and search of the referral Task and ServiceRequest.

A hospital sees only the referrals it sends or receives (the Task's requester or owner). Search
follows the R4B specification (services/referral/entrypoints/fhir_search.py); every resource is
validated with the fhir.resources R4B models before it leaves, and declares its profile.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import asyncpg
from fastapi import APIRouter, HTTPException, Request

from services.referral.adapters import audit, repository
from services.referral.adapters.fhir_mapping import patient_id, referral_task, service_request_id
from services.referral.domain.model import Referral
from services.referral.entrypoints.deps import ContextDep, ensure_party, fhir_base_url
from services.referral.entrypoints.fhir_search import (
    SERVICE_REQUEST_STATUS,
    BadSearch,
    Parameter,
    ReferralQuery,
    parse_search,
    search_parameters,
    wants_lenient,
)
from shared.auth import CallerDep
from shared.fhir import codes
from shared.fhir.codes import organization_reference
from shared.fhir.conformance.profiles import with_profile
from shared.fhir.models import Bundle, ServiceRequest, Task
from shared.runtime import RuntimeDep, ServiceRuntime
from shared.web import FhirResponse
from shared.workflow.task_state import REASON_REQUIRED

router = APIRouter(prefix="/fhir")
SERVICE_REQUEST_PREFIX = "sr-"
TASK_SEARCH, SERVICE_REQUEST_SEARCH = search_parameters(lambda: datetime.now(UTC))

# --- resources --------------------------------------------------------------------------------


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _with_meta(resource: dict[str, Any], last_updated: datetime) -> dict[str, Any]:
    return {**resource, "meta": {"lastUpdated": _instant(last_updated)}}


def task_json(row: asyncpg.Record) -> dict[str, Any]:
    """The referral Task as the network shows it, with meta.lastUpdated (R4B-validated)."""
    referral = repository.referral_from_row(row)
    last_updated: datetime = row["fhir_last_updated"]
    business_status = row["fhir_business_status"] or ("prealert" if referral.prealert else None)
    task = referral_task(
        referral,
        status_reason=row["fhir_status_reason"] if referral.status in REASON_REQUIRED else None,
        business_status=business_status,
        last_modified=last_updated,
    )
    data = _with_meta(task.model_dump(mode="json", exclude_none=True), last_updated)
    return _validated(Task, with_profile(data))


def service_request_json(row: asyncpg.Record) -> dict[str, Any]:
    """The referral's ServiceRequest (what is asked: SNOMED 3457005 Patient referral)."""
    referral: Referral = repository.referral_from_row(row)
    data = {
        "resourceType": "ServiceRequest",
        "id": service_request_id(referral.id),
        "meta": {"lastUpdated": _instant(row["fhir_last_updated"])},
        "status": SERVICE_REQUEST_STATUS[referral.status],
        "intent": "order",
        "priority": "stat",
        "code": codes.PATIENT_REFERRAL_CODE,
        "subject": {"reference": f"Patient/{patient_id(referral.id)}"},
        "authoredOn": _instant(referral.created_at),
        "requester": {"reference": organization_reference(referral.requester_org)},
        "performer": [{"reference": organization_reference(referral.owner_org)}],
    }
    return _validated(ServiceRequest, with_profile(data))


def _validated(model: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Validates with the R4B model; returns the resource's JSON as the model writes it."""
    dumped: dict[str, Any] = model.model_validate(data).model_dump(mode="json", exclude_none=True)
    return dumped


def searchset(
    request: Request,
    *,
    base: str,
    resource_type: str,
    resources: list[dict[str, Any]],
    total: int,
    query: ReferralQuery | None = None,
) -> dict[str, Any]:
    """A searchset Bundle with self (the parameters applied) and first/next/previous links,
    validated with R4B."""
    search_url = f"{base}/{resource_type}"
    if query is None:
        links = [{"relation": "self", "url": _url(search_url, request.url.query)}]
    else:
        applied = query.applied

        def page(offset: int) -> str:
            paging = [("_count", str(query.count)), ("_offset", str(offset))]
            return _url(search_url, urlencode([*applied, *paging]))

        links = [{"relation": "self", "url": page(query.offset)}]
        if query.count > 0:
            links.append({"relation": "first", "url": page(0)})
            if query.offset + query.count < total:
                links.append({"relation": "next", "url": page(query.offset + query.count)})
            if query.offset > 0:
                previous = max(0, query.offset - query.count)
                links.append({"relation": "previous", "url": page(previous)})
    bundle = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": _instant(datetime.now(UTC))},
        "type": "searchset",
        **({"total": total} if query is None or query.with_total else {}),
        "link": links,
        "entry": [
            {
                "fullUrl": f"{base}/{resource_type}/{resource['id']}",
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in resources
        ],
    }
    return _validated(Bundle, bundle)


def _url(path: str, query: str) -> str:
    return f"{path}?{query}" if query else path


# --- Task and ServiceRequest ------------------------------------------------------------------


async def _read(runtime: ServiceRuntime, referral_id: str, caller: str, via: str) -> Any:
    async with runtime.pool.acquire() as connection:
        _, rows = await repository.search_referrals(
            connection, party=None, referral_ids=[referral_id], limit=1
        )
        if not rows:
            return None
        ensure_party(repository.referral_from_row(rows[0]), caller)
        await audit.record_reads(
            connection, caller=caller, referral_ids=[referral_id], action=audit.READ, via=via
        )
    return rows[0]


async def _search(
    request: Request,
    runtime: ServiceRuntime,
    base: str,
    caller: str,
    *,
    resource_type: str,
    parameters: Mapping[str, Parameter],
    to_json: Callable[[asyncpg.Record], dict[str, Any]],
) -> FhirResponse:
    try:
        query = parse_search(
            request.query_params.multi_items(),
            parameters,
            base=base,
            lenient=wants_lenient(request.headers.get("prefer")),
        )
    except BadSearch as bad:
        return bad.response()

    def listed(values: set[str] | None) -> list[str] | None:
        return sorted(values) if values is not None else None

    async with runtime.pool.acquire() as connection:
        total, rows = await repository.search_referrals(
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
        ids = [row["id"] for row in rows]
        via = f"GET /fhir/{resource_type}"
        await audit.record_reads(
            connection, caller=caller, referral_ids=ids, action=audit.SEARCH, via=via
        )
    bundle = searchset(
        request,
        base=base,
        resource_type=resource_type,
        resources=[to_json(row) for row in rows],
        total=total,
        query=query,
    )
    return FhirResponse(bundle)


@router.get("/Task/{task_id}", response_class=FhirResponse)
async def read_task(task_id: str, runtime: RuntimeDep, caller: CallerDep) -> FhirResponse:
    """The referral Task, for the two hospitals it is between."""
    row = await _read(runtime, task_id, caller, "GET /fhir/Task/{task_id}")
    if row is None:
        raise HTTPException(404, f"Unknown Task {task_id[:80]!r}")
    return FhirResponse(task_json(row))


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
    row = None
    if request_id.startswith(SERVICE_REQUEST_PREFIX):
        referral_id = request_id.removeprefix(SERVICE_REQUEST_PREFIX)
        row = await _read(runtime, referral_id, caller, "GET /fhir/ServiceRequest/{request_id}")
    if row is None:
        raise HTTPException(404, f"Unknown ServiceRequest {request_id[:80]!r}")
    return FhirResponse(service_request_json(row))


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
