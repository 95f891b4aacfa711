"""The referral's FHIR REST resources as the network shows them: the Task, its ServiceRequest
and searchset Bundles, each validated with the fhir.resources R4B models before it leaves and
declaring its profile."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from services.referral.adapters.fhir_mapping import patient_id, referral_task, service_request_id
from services.referral.adapters.fhir_search import SERVICE_REQUEST_STATUS, ReferralQuery
from services.referral.domain.model import ReferralSnapshot
from shared.fhir import codes
from shared.fhir.codes import organization_reference
from shared.fhir.conformance.profiles import with_profile
from shared.fhir.models import Bundle, ServiceRequest, Task
from shared.workflow.task_state import REASON_REQUIRED

SERVICE_REQUEST_PREFIX = "sr-"


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def task_json(snapshot: ReferralSnapshot) -> dict[str, Any]:
    """The referral Task as the network shows it, with meta.lastUpdated (R4B-validated)."""
    referral = snapshot.referral
    last_updated = snapshot.last_updated
    business_status = snapshot.business_status or ("prealert" if referral.prealert else None)
    task = referral_task(
        referral,
        status_reason=snapshot.status_reason if referral.status in REASON_REQUIRED else None,
        business_status=business_status,
        last_modified=last_updated,
    )
    data = {
        **task,
        "meta": {"lastUpdated": _instant(last_updated)},
    }
    return _validated(Task, with_profile(data))


def service_request_json(snapshot: ReferralSnapshot) -> dict[str, Any]:
    """The referral's ServiceRequest (what is asked: SNOMED 3457005 Patient referral)."""
    referral = snapshot.referral
    data = {
        "resourceType": "ServiceRequest",
        "id": service_request_id(referral.id),
        "meta": {"lastUpdated": _instant(snapshot.last_updated)},
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
    *,
    base: str,
    resource_type: str,
    resources: list[dict[str, Any]],
    total: int,
    query: ReferralQuery | None = None,
    asked: str = "",
) -> dict[str, Any]:
    """A searchset Bundle, validated with R4B. Its self link shows the parameters applied (the
    query string ``asked`` as it came, without a parsed ``query``), with first/next/previous
    links for the pages of a ``query``."""
    search_url = f"{base}/{resource_type}"
    if query is None:
        links = [{"relation": "self", "url": _url(search_url, asked)}]
    else:
        links = _page_links(search_url, query, total)
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


def _page_links(search_url: str, query: ReferralQuery, total: int) -> list[dict[str, str]]:
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
            links.append({"relation": "previous", "url": page(max(0, query.offset - query.count))})
    return links


def _url(path: str, query: str) -> str:
    return f"{path}?{query}" if query else path
