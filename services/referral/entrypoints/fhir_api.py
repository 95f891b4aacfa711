"""FHIR REST for hospital systems: read and search of Task and ServiceRequest, the
CapabilityStatement, the project's CodeSystems, and the AsyncAPI document of the Kafka topics.

A hospital sees only the referrals it sends or receives (the Task's requester or owner). Search
is strict: an unknown parameter, modifier or code is answered 400 with an OperationOutcome
naming it. Every resource is validated with the fhir.resources R4B models before it leaves.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import asyncpg
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse
from faststream.specification.asyncapi import AsyncAPI, get_asyncapi_html
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from services.referral.adapters import repository
from services.referral.adapters.fhir_mapping import referral_task
from services.referral.domain import lifecycle
from services.referral.domain.model import Referral
from services.referral.domain.task_state import REASON_REQUIRED, TaskStatus
from services.referral.entrypoints.http import endpoints_of, ensure_party
from shared.auth import CallerDep
from shared.fhir import codes
from shared.fhir.codes import EVENT_SYSTEM, PROJECT_CANONICAL, EventCode, organization_reference
from shared.fhir.codesystems import CODE_SYSTEMS, PUBLISHER
from shared.fhir.envelope import SOFTWARE_NAME, SOFTWARE_VERSION
from shared.fhir.models import FHIR_JSON, FHIR_VERSION, Bundle, ServiceRequest, Task
from shared.messaging import headers
from shared.runtime import RuntimeDep, ServiceRuntime
from shared.web import FhirResponse, outcome_response

router = APIRouter(prefix="/fhir")
# Documents outside the FHIR base: the AsyncAPI description of the Kafka topics.
docs_router = APIRouter()

DEFAULT_COUNT = 50
MAX_COUNT = 200
# When the CapabilityStatement last changed.
CAPABILITY_DATE = "2026-11-23"
SERVICE_REQUEST_PREFIX = "sr-"
PATIENT_PREFIX = "p-"
PROCESS_MESSAGE = "http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message"
SEARCH_PARAMETER = "http://hl7.org/fhir/SearchParameter"
MESSAGE_TRANSPORT = "http://terminology.hl7.org/CodeSystem/message-transport"

# ServiceRequest.status (http://hl7.org/fhir/request-status) follows the referral Task.
SERVICE_REQUEST_STATUS: Mapping[TaskStatus, str] = {
    TaskStatus.DRAFT: "draft",
    TaskStatus.REQUESTED: "active",
    TaskStatus.RECEIVED: "active",
    TaskStatus.ACCEPTED: "active",
    TaskStatus.READY: "active",
    TaskStatus.IN_PROGRESS: "active",
    TaskStatus.ON_HOLD: "active",
    TaskStatus.COMPLETED: "completed",
    TaskStatus.REJECTED: "revoked",
    TaskStatus.CANCELLED: "revoked",
    TaskStatus.FAILED: "revoked",
    TaskStatus.ENTERED_IN_ERROR: "entered-in-error",
}
REQUEST_STATUSES = (
    "draft",
    "active",
    "on-hold",
    "revoked",
    "completed",
    "entered-in-error",
    "unknown",
)

# What hospital systems may send (Kafka or $process-message): new referrals and pre-alerts,
# every lifecycle step the rules accept from a hospital, and availability reports.
_NOT_LIFECYCLE_STEPS = frozenset(
    {EventCode.STROKE_PREALERT, EventCode.REFERRAL_REQUESTED, EventCode.AVAILABILITY_CHANGED}
)
HOSPITAL_EVENTS: tuple[EventCode, ...] = tuple(
    event for event in EventCode if event in lifecycle.RULES or event in _NOT_LIFECYCLE_STEPS
)


class BadSearch(Exception):
    """A search the server refuses (strict handling); ``reason`` is safe to show the caller."""

    def __init__(self, reason: str, *, issue_code: str = "invalid") -> None:
        super().__init__(reason)
        self.reason = reason
        self.issue_code = issue_code

    def response(self) -> FhirResponse:
        return outcome_response(400, self.reason, code=self.issue_code)


@dataclass
class ReferralQuery:
    """Search criteria on referrals; ``None`` is no criterion, an empty set matches nothing."""

    referral_ids: set[str] | None = None
    statuses: set[str] | None = None
    owners: set[str] | None = None
    requesters: set[str] | None = None
    last_updated: list[tuple[str, datetime, datetime]] = field(default_factory=list)
    count: int = DEFAULT_COUNT
    offset: int = 0


# A search parameter: narrows the query with one (non-empty) value; the base URL resolves
# absolute references.
Parameter = Callable[[ReferralQuery, str, str], None]


def _narrow(current: set[str] | None, values: set[str]) -> set[str]:
    """Repeated parameters are ANDed; comma-separated values within one are ORed."""
    return values if current is None else current & values


def _values(value: str) -> set[str]:
    return {v.strip() for v in value.split(",") if v.strip()}


def _reference_ids(value: str, resource_type: str, base: str) -> set[str]:
    """Ids from ``Type/id``, ``id`` or ``<base>/Type/id``; references to other types match
    nothing."""
    found: set[str] = set()
    for reference in _values(value):
        reference = reference.removeprefix(f"{base}/")
        kind, slash, ident = reference.rpartition("/")
        if not slash:
            found.add(reference)
        elif kind == resource_type and ident:
            found.add(ident)
    return found


def _task_status(query: ReferralQuery, value: str, base: str) -> None:
    wanted = _values(value)
    known = {status.value for status in TaskStatus}
    unknown = sorted(wanted - known)
    if unknown:
        raise BadSearch(
            f"Unknown Task status {unknown[0][:40]!r}; "
            f"codes of http://hl7.org/fhir/task-status: {', '.join(sorted(known))}",
            issue_code="value",
        )
    query.statuses = _narrow(query.statuses, wanted)


def _service_request_status(query: ReferralQuery, value: str, base: str) -> None:
    wanted = _values(value)
    unknown = sorted(wanted - set(REQUEST_STATUSES))
    if unknown:
        raise BadSearch(
            f"Unknown ServiceRequest status {unknown[0][:40]!r}; "
            f"codes of http://hl7.org/fhir/request-status: {', '.join(REQUEST_STATUSES)}",
            issue_code="value",
        )
    statuses = {task.value for task, sr in SERVICE_REQUEST_STATUS.items() if sr in wanted}
    query.statuses = _narrow(query.statuses, statuses)


def _owner(query: ReferralQuery, value: str, base: str) -> None:
    query.owners = _narrow(query.owners, _reference_ids(value, "Organization", base))


def _requester(query: ReferralQuery, value: str, base: str) -> None:
    query.requesters = _narrow(query.requesters, _reference_ids(value, "Organization", base))


def _patient(query: ReferralQuery, value: str, base: str) -> None:
    # The Patient of a referral is Patient/p-<referral id> (see fhir_mapping).
    referral_ids = {
        ident.removeprefix(PATIENT_PREFIX)
        for ident in _reference_ids(value, "Patient", base)
        if ident.startswith(PATIENT_PREFIX)
    }
    query.referral_ids = _narrow(query.referral_ids, referral_ids)


_DATE_TIME = re.compile(
    r"(?P<prefix>eq|ne|gt|lt|ge|le)?"
    r"(?P<moment>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?P<seconds>:\d{2}(?:\.(?P<fraction>\d{1,6}))?)?)"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})"
)


def _last_updated(query: ReferralQuery, value: str, base: str) -> None:
    # An unencoded "+07:00" arrives as " 07:00": read it as the client meant it.
    match = _DATE_TIME.fullmatch(value.strip().replace(" ", "+"))
    if match is None:
        raise BadSearch(
            f"_lastUpdated {value[:40]!r} is not [eq|ne|gt|lt|ge|le]<dateTime with zone>, "
            "e.g. ge2026-11-23T09:00:00+07:00",
            issue_code="value",
        )
    zone = match["zone"].replace("Z", "+00:00")
    try:
        start = datetime.fromisoformat(f"{match['moment']}{zone}")
    except ValueError:
        raise BadSearch(
            f"_lastUpdated {value[:40]!r} is not a valid date", issue_code="value"
        ) from None
    # The searched value stands for the range of its precision (FHIR search on dates).
    if match["fraction"]:
        precision = timedelta(microseconds=10 ** (6 - len(match["fraction"])))
    elif match["seconds"]:
        precision = timedelta(seconds=1)
    else:
        precision = timedelta(minutes=1)
    query.last_updated.append((match["prefix"] or "eq", start, start + precision))


TASK_SEARCH: Mapping[str, Parameter] = {
    "status": _task_status,
    "owner": _owner,
    "requester": _requester,
    "patient": _patient,
    "_lastUpdated": _last_updated,
}
SERVICE_REQUEST_SEARCH: Mapping[str, Parameter] = {
    "status": _service_request_status,
    "requester": _requester,
    "performer": _owner,
    "patient": _patient,
    "_lastUpdated": _last_updated,
}
RESULT_PARAMETERS = ("_count", "_offset")


def parse_search(
    items: Iterable[tuple[str, str]], parameters: Mapping[str, Parameter], *, base: str
) -> ReferralQuery:
    """Reads the search parameters; raises BadSearch naming what is not supported."""
    query = ReferralQuery()
    for name, value in items:
        if name in RESULT_PARAMETERS:
            number = _non_negative(name, value)
            if name == "_count":
                query.count = min(number, MAX_COUNT)
            else:
                query.offset = number
            continue
        parse = parameters.get(name)
        if parse is None:
            supported = ", ".join([*parameters, *RESULT_PARAMETERS])
            raise BadSearch(
                f"Unknown search parameter {name[:60]!r}; supported: {supported}",
                issue_code="not-supported",
            )
        if value.strip():  # an empty parameter is ignored (FHIR search)
            parse(query, value, base)
    return query


def _non_negative(name: str, value: str) -> int:
    # At most 9 digits: a larger offset is no page of anything, and overflows PostgreSQL's bigint.
    number = int(value) if value.isascii() and value.isdigit() and len(value) <= 9 else -1
    if number < 0:
        raise BadSearch(f"{name} must be a whole number from 0 to 999999999", issue_code="value")
    return number


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
    return _validated(Task, data)


def service_request_json(row: asyncpg.Record) -> dict[str, Any]:
    """The referral's ServiceRequest (what is asked: SNOMED 3457005 Patient referral)."""
    referral: Referral = repository.referral_from_row(row)
    data = {
        "resourceType": "ServiceRequest",
        "id": f"{SERVICE_REQUEST_PREFIX}{referral.id}",
        "meta": {"lastUpdated": _instant(row["fhir_last_updated"])},
        "status": SERVICE_REQUEST_STATUS[referral.status],
        "intent": "order",
        "priority": "stat",
        "code": codes.PATIENT_REFERRAL_CODE,
        "subject": {"reference": f"Patient/{PATIENT_PREFIX}{referral.id}"},
        "authoredOn": _instant(referral.created_at),
        "requester": {"reference": organization_reference(referral.requester_org)},
        "performer": [{"reference": organization_reference(referral.owner_org)}],
    }
    return _validated(ServiceRequest, data)


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
    """A searchset Bundle with self (and next/previous) links, validated with R4B."""
    search_url = f"{base}/{resource_type}"
    links = [{"relation": "self", "url": _url(search_url, request.url.query)}]
    if query is not None and query.count > 0:
        items = [
            (k, v) for k, v in request.query_params.multi_items() if k not in RESULT_PARAMETERS
        ]

        def page(offset: int) -> str:
            return _url(
                search_url, urlencode([*items, ("_count", query.count), ("_offset", offset)])
            )

        if query.offset + query.count < total:
            links.append({"relation": "next", "url": page(query.offset + query.count)})
        if query.offset > 0:
            links.append({"relation": "previous", "url": page(max(0, query.offset - query.count))})
    bundle = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": _instant(datetime.now(UTC))},
        "type": "searchset",
        "total": total,
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


def _base(request: Request) -> str:
    """The FHIR base URL the network publishes (FT_REFERRAL_PUBLIC_URL + /fhir)."""
    return endpoints_of(request).source_endpoint.rstrip("/")


# --- Task and ServiceRequest ------------------------------------------------------------------


async def _read(runtime: ServiceRuntime, referral_id: str, caller: str) -> asyncpg.Record | None:
    async with runtime.pool.acquire() as connection:
        _, rows = await repository.search_referrals(
            connection, party=None, referral_ids=[referral_id], limit=1
        )
    if not rows:
        return None
    ensure_party(repository.referral_from_row(rows[0]), caller)
    return rows[0]


async def _search(
    request: Request,
    runtime: ServiceRuntime,
    caller: str,
    *,
    resource_type: str,
    parameters: Mapping[str, Parameter],
    to_json: Callable[[asyncpg.Record], dict[str, Any]],
) -> FhirResponse:
    base = _base(request)
    try:
        query = parse_search(request.query_params.multi_items(), parameters, base=base)
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
    row = await _read(runtime, task_id, caller)
    if row is None:
        raise HTTPException(404, f"Unknown Task {task_id[:80]!r}")
    return FhirResponse(task_json(row))


@router.get("/Task", response_class=FhirResponse)
async def search_tasks(request: Request, runtime: RuntimeDep, caller: CallerDep) -> FhirResponse:
    """Search the caller's referral Tasks: status, owner, requester, patient, _lastUpdated."""
    return await _search(
        request,
        runtime,
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
        row = await _read(runtime, request_id.removeprefix(SERVICE_REQUEST_PREFIX), caller)
    if row is None:
        raise HTTPException(404, f"Unknown ServiceRequest {request_id[:80]!r}")
    return FhirResponse(service_request_json(row))


@router.get("/ServiceRequest", response_class=FhirResponse)
async def search_service_requests(
    request: Request, runtime: RuntimeDep, caller: CallerDep
) -> FhirResponse:
    """Search the caller's referral ServiceRequests: status, requester, performer, patient,
    _lastUpdated."""
    return await _search(
        request,
        runtime,
        caller,
        resource_type="ServiceRequest",
        parameters=SERVICE_REQUEST_SEARCH,
        to_json=service_request_json,
    )


# --- CodeSystems ------------------------------------------------------------------------------


@router.get("/CodeSystem/{name}", response_class=FhirResponse)
async def read_code_system(name: str) -> FhirResponse:
    """One of the project's CodeSystems (its canonical URL ends with the same id)."""
    code_system = CODE_SYSTEMS.get(name)
    if code_system is None:
        raise HTTPException(
            404, f"Unknown CodeSystem {name[:60]!r}; known: {', '.join(CODE_SYSTEMS)}"
        )
    return FhirResponse(code_system.to_json())


@router.get("/CodeSystem", response_class=FhirResponse)
async def search_code_systems(request: Request) -> FhirResponse:
    """The project's CodeSystems; ``url`` finds one by its canonical URL."""
    urls: set[str] | None = None
    for name, value in request.query_params.multi_items():
        if name != "url":
            return BadSearch(
                f"Unknown search parameter {name[:60]!r}; supported: url",
                issue_code="not-supported",
            ).response()
        if value.strip():
            urls = _narrow(urls, {value.strip().split("|")[0]})
    found = [c.to_json() for c in CODE_SYSTEMS.values() if urls is None or c.url in urls]
    bundle = searchset(
        request, base=_base(request), resource_type="CodeSystem", resources=found, total=len(found)
    )
    return FhirResponse(bundle)


# --- CapabilityStatement ----------------------------------------------------------------------


def _search_param(name: str, definition: str, kind: str, documentation: str) -> dict[str, str]:
    return {
        "name": name,
        "definition": f"{SEARCH_PARAMETER}/{definition}",
        "type": kind,
        "documentation": documentation,
    }


_LAST_UPDATED_PARAM = _search_param(
    "_lastUpdated",
    "Resource-lastUpdated",
    "date",
    "When anything about the referral was last recorded; prefixes eq, ne, gt, lt, ge, le and a "
    "dateTime with zone; repeat the parameter to AND (e.g. ge...&lt...).",
)
_PATIENT_PARAM_DOC = "Patient/p-<referral id>, the Patient of the referral's messages."
_ORGANIZATION_DOC = "Organization/<id> or <id>; comma-separated values are ORed."


def capability_statement(base: str, public_url: str) -> dict[str, Any]:
    """What this server does over FHIR REST and FHIR messaging (validated with R4B)."""
    read_search = [{"code": "read"}, {"code": "search-type"}]
    data = {
        "resourceType": "CapabilityStatement",
        "id": "fasttrack-referral",
        "url": f"{PROJECT_CANONICAL}/CapabilityStatement/fasttrack-referral",
        "version": SOFTWARE_VERSION,
        "name": "FastTrackReferralService",
        "title": "Fast Track referral service",
        "status": "active",
        "experimental": False,
        "date": CAPABILITY_DATE,
        "publisher": PUBLISHER,
        "description": (
            "Stroke referrals between the hospitals of the network: FHIR messaging "
            "($process-message, or Kafka as described at /asyncapi.json) and read and search of "
            "the referral Task and ServiceRequest. A hospital sees only the referrals it sends "
            "or receives."
        ),
        "kind": "instance",
        "software": {"name": SOFTWARE_NAME, "version": SOFTWARE_VERSION},
        "implementation": {"description": "Fast Track referral service", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    f"Responses are {FHIR_JSON}; errors are OperationOutcomes. Search is strict: "
                    "an unknown parameter is answered 400. _count defaults to "
                    f"{DEFAULT_COUNT} (at most {MAX_COUNT}); results are newest first."
                ),
                "security": {
                    "cors": False,
                    "description": (
                        "Every call except metadata, CodeSystem and the AsyncAPI document needs "
                        "the hospital's API key: 'Authorization: Bearer <key>'. 401 without it, "
                        "403 for a referral between other hospitals."
                    ),
                },
                "resource": [
                    {
                        "type": "Task",
                        "documentation": "The referral's state of fulfilment (HL7 BSeR, IHE 360X).",
                        "interaction": read_search,
                        "versioning": "no-version",
                        "readHistory": False,
                        "updateCreate": False,
                        "searchParam": [
                            _search_param(
                                "status",
                                "Task-status",
                                "token",
                                "http://hl7.org/fhir/task-status codes, comma-separated (OR).",
                            ),
                            _search_param("owner", "Task-owner", "reference", _ORGANIZATION_DOC),
                            _search_param(
                                "requester", "Task-requester", "reference", _ORGANIZATION_DOC
                            ),
                            _search_param(
                                "patient", "Task-patient", "reference", _PATIENT_PARAM_DOC
                            ),
                            _LAST_UPDATED_PARAM,
                        ],
                    },
                    {
                        "type": "ServiceRequest",
                        "documentation": (
                            "What the referral asks for (sr-<referral id>); its status follows "
                            "the Task: active, completed, revoked or entered-in-error."
                        ),
                        "interaction": read_search,
                        "versioning": "no-version",
                        "readHistory": False,
                        "updateCreate": False,
                        "searchParam": [
                            _search_param(
                                "status",
                                "ServiceRequest-status",
                                "token",
                                "http://hl7.org/fhir/request-status codes, comma-separated (OR).",
                            ),
                            _search_param(
                                "requester",
                                "ServiceRequest-requester",
                                "reference",
                                _ORGANIZATION_DOC,
                            ),
                            _search_param(
                                "performer",
                                "ServiceRequest-performer",
                                "reference",
                                _ORGANIZATION_DOC,
                            ),
                            _search_param(
                                "patient", "clinical-patient", "reference", _PATIENT_PARAM_DOC
                            ),
                            _LAST_UPDATED_PARAM,
                        ],
                    },
                    {
                        "type": "CodeSystem",
                        "documentation": (
                            "The project's CodeSystems, at their canonical URLs "
                            f"({PROJECT_CANONICAL}/CodeSystem/<id>)."
                        ),
                        "interaction": read_search,
                        "searchParam": [
                            _search_param("url", "conformance-url", "uri", "The canonical URL.")
                        ],
                    },
                ],
                "operation": [
                    {
                        "name": "process-message",
                        "definition": PROCESS_MESSAGE,
                        "documentation": (
                            "POST /fhir/$process-message with a message Bundle; the answer is "
                            "the response message, or an OperationOutcome saying why not."
                        ),
                    }
                ],
            }
        ],
        "messaging": [
            {
                "endpoint": [
                    {
                        "protocol": {"system": MESSAGE_TRANSPORT, "code": "http"},
                        "address": f"{base}/$process-message",
                    }
                ],
                "documentation": (
                    f"Events are codes of {EVENT_SYSTEM}. The same messages travel on Kafka "
                    "(fasttrack.hospital.inbound.v1 in; fasttrack.hospital.responses.v1 and "
                    f"fasttrack.referral.events.v1 out): see {public_url}/asyncapi.json."
                ),
                "supportedMessage": [
                    {
                        "mode": "receiver",
                        "definition": f"{PROJECT_CANONICAL}/MessageDefinition/{event.value}",
                    }
                    for event in HOSPITAL_EVENTS
                ],
            }
        ],
    }
    return _validated(CapabilityStatement, data)


@router.get("/metadata", response_class=FhirResponse)
async def metadata(request: Request) -> FhirResponse:
    """The CapabilityStatement (no API key needed)."""
    endpoints = endpoints_of(request)
    return FhirResponse(capability_statement(_base(request), endpoints.public_url.rstrip("/")))


# --- AsyncAPI ---------------------------------------------------------------------------------

ASYNCAPI_TITLE = "Fast Track: Kafka topics for hospital systems"
ASYNCAPI_DESCRIPTION = f"""\
What a hospital system produces to and consumes from the Fast Track network on Kafka.

Operations are described from the network's side: it **receives** what hospital systems produce
on `fasttrack.hospital.inbound.v1`, and **sends** on `fasttrack.hospital.responses.v1` (the
answer to each message: `ok` with the Task, or `fatal-error` with an OperationOutcome) and
`fasttrack.referral.events.v1` (referral lifecycle), which hospital systems consume with their own
consumer group.

Every value is a FHIR R4B ({FHIR_VERSION}) message Bundle: first entry a MessageHeader with
`eventCoding` from {EVENT_SYSTEM}, `sender`, `destination`, `source` and `focus` (the Task). The
Kafka key is the referral (Task) id, so one patient's messages stay in order; the `message-id`
header (= MessageHeader.id) is the de-duplication key. The same messages can be posted to
`POST /fhir/$process-message`; read and search the referrals at `/fhir/Task` (see
`/fhir/metadata`).
"""

FHIR_MESSAGE_SCHEMA: dict[str, Any] = {
    "title": "FHIR message Bundle",
    "type": "object",
    "description": (
        f"A FHIR R4B Bundle of type message; entry[0] is the MessageHeader (eventCoding from "
        f"{EVENT_SYSTEM}), the other entries the focus (Task) and supporting resources."
    ),
    "externalDocs": {"url": "https://hl7.org/fhir/R4B/messaging.html"},
    "required": ["resourceType", "type", "entry"],
    "properties": {
        "resourceType": {"const": "Bundle"},
        "id": {"type": "string"},
        "type": {"const": "message"},
        "timestamp": {"type": "string", "format": "date-time"},
        "entry": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["resource"],
                "properties": {
                    "fullUrl": {"type": "string"},
                    "resource": {
                        "type": "object",
                        "required": ["resourceType"],
                        "properties": {"resourceType": {"type": "string"}},
                    },
                },
            },
        },
    },
}
KAFKA_HEADERS_SCHEMA: dict[str, Any] = {
    "title": "Fast Track Kafka headers",
    "type": "object",
    "properties": {
        headers.MESSAGE_ID: {
            "type": "string",
            "description": "MessageHeader.id: the de-duplication key",
        },
        headers.EVENT_CODE: {
            "type": "string",
            "description": f"MessageHeader.eventCoding.code ({EVENT_SYSTEM})",
            "enum": [event.value for event in EventCode],
        },
        headers.SEQUENCE: {
            "type": "string",
            "description": "Per producer and referral, increasing by one: a gap is a lost message",
        },
        headers.PRODUCER: {"type": "string", "description": "The producing service or system"},
        headers.FHIR_VERSION: {"type": "string", "const": FHIR_VERSION},
        headers.CONTENT_TYPE: {"type": "string", "const": FHIR_JSON},
        "traceparent": {
            "type": "string",
            "description": "W3C trace context: one trace follows the referral across services",
        },
    },
}


def asyncapi_document(runtime: ServiceRuntime) -> dict[str, Any]:
    """The AsyncAPI 3.0 document FastStream generates from the broker's subscribers and
    publishers, with the FHIR message payload, the Kafka key and headers filled in."""
    document: dict[str, Any] = (
        AsyncAPI(
            runtime.broker,
            title=ASYNCAPI_TITLE,
            version=SOFTWARE_VERSION,
            description=ASYNCAPI_DESCRIPTION,
            schema_version="3.0.0",
        )
        .to_specification()
        .to_jsonable()
    )
    document["defaultContentType"] = FHIR_JSON
    components = document.setdefault("components", {})
    for message in components.get("messages", {}).values():
        message["contentType"] = FHIR_JSON
        message["payload"] = {"$ref": "#/components/schemas/FhirMessageBundle"}
        message["headers"] = {"$ref": "#/components/schemas/KafkaHeaders"}
        message["correlationId"] = {
            "description": "MessageHeader.id; a response carries it in MessageHeader.response",
            "location": f"$message.header#/{headers.MESSAGE_ID}",
        }
        message["bindings"] = {
            "kafka": {
                "key": {"type": "string", "description": "The referral (Task) id"},
                "bindingVersion": "0.4.0",
            }
        }
    # FastStream's payload schemas describe the Python handlers, not the FHIR messages.
    components["schemas"] = {
        "FhirMessageBundle": FHIR_MESSAGE_SCHEMA,
        "KafkaHeaders": KAFKA_HEADERS_SCHEMA,
    }
    return document


@dataclass(frozen=True)
class _Specification:
    """A finished AsyncAPI document, as FastStream's HTML page wants it."""

    document: dict[str, Any]

    @property
    def title(self) -> str:
        return str(self.document["info"]["title"])

    def to_json(self) -> str:
        return json.dumps(self.document)

    def to_jsonable(self) -> Any:
        return self.document

    def to_yaml(self) -> str:
        return self.to_json()  # JSON is YAML


@docs_router.get("/asyncapi.json", response_class=JSONResponse)
async def asyncapi_json(runtime: RuntimeDep) -> JSONResponse:
    """The AsyncAPI 3.0 document of the topics hospital systems use (no API key needed)."""
    return JSONResponse(asyncapi_document(runtime))


@docs_router.get("/asyncapi", response_class=HTMLResponse)
async def asyncapi_page(runtime: RuntimeDep) -> HTMLResponse:
    """The same document, rendered by the AsyncAPI web component."""
    page = get_asyncapi_html(_Specification(asyncapi_document(runtime)), try_it_out_path=None)
    return HTMLResponse(page)
