"""FHIR REST read and search, CapabilityStatement, CodeSystems and the AsyncAPI document, against
the running referral service. Every resource the service returns is validated with R4B."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TypeVar
from urllib.parse import unquote

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.codesystem import CodeSystem
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from services.referral.adapters.fhir_search import SERVICE_REQUEST_STATUS
from shared.fhir.codes import CODESYSTEM_VERSION, EVENT_SYSTEM, PROJECT_CANONICAL
from shared.messaging.topics import (
    HOSPITAL_INBOUND_TOPICS,
    HOSPITAL_RESPONSE_TOPICS,
    NOTIFICATION_OUTCOMES,
    NOTIFICATION_REQUESTS,
    REFERRAL_EVENTS,
    TELEMEDICINE_EVENTS,
)
from shared.workflow.task_state import TaskStatus
from tests.support import as_hospital, hospital_message, referral_bundle

pytestmark = pytest.mark.e2e

SPOKE, HUB, OTHER_SPOKE, STRANGER = (
    "sikao-hospital",
    "trang-hospital",
    "kantang-hospital",
    "palian-hospital",
)
FHIR_JSON = {"Content-Type": "application/fhir+json"}
BANGKOK = timezone(timedelta(hours=7))
R = TypeVar("R", bound=Resource)


def fhir(response: httpx.Response, model: type[R], status: int = 200) -> R:
    """The response's resource, checked: status, FHIR JSON media type, valid R4B."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    assert body["resourceType"] == model.get_resource_type()
    return model.model_validate(body)


def outcome(response: httpx.Response, status: int) -> str:
    """The diagnostics of an OperationOutcome answer."""
    parsed = fhir(response, OperationOutcome, status)
    assert parsed.issue
    assert parsed.issue[0].diagnostics
    return str(parsed.issue[0].diagnostics)


def searchset(response: httpx.Response) -> Bundle:
    bundle = fhir(response, Bundle)
    assert bundle.type == "searchset"
    assert bundle.total is not None
    for entry in bundle.entry or []:
        assert entry.search is not None
        assert entry.search.mode == "match"
        assert entry.resource is not None
        assert entry.fullUrl
        assert entry.fullUrl.endswith(f"/{entry.resource.get_resource_type()}/{entry.resource.id}")
    return bundle


def ids(bundle: Bundle) -> set[str]:
    return {str(entry.resource.id) for entry in bundle.entry or [] if entry.resource}


def parties(bundle: Bundle) -> list[tuple[str, str]]:
    found = []
    for entry in bundle.entry or []:
        data = entry.resource.model_dump(mode="json", exclude_none=True)  # type: ignore[union-attr]
        if data["resourceType"] == "Task":
            found.append((data["requester"]["reference"], data["owner"]["reference"]))
        else:
            found.append((data["requester"]["reference"], data["performer"][0]["reference"]))
    return found


async def refer(client: httpx.AsyncClient, *, sender: str = SPOKE) -> str:
    """A new referral from ``sender`` to the hub over $process-message; its id."""
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    text = json.dumps(bundle)
    if sender != SPOKE:
        text = text.replace(SPOKE, sender)
    response = await client.post(
        "/fhir/$process-message", content=text, headers={**FHIR_JSON, **as_hospital(sender)}
    )
    assert response.status_code == 200, response.text
    return referral_id


async def send(
    client: httpx.AsyncClient,
    event: str,
    *,
    sender: str,
    receiver: str,
    referral_id: str,
    status: str,
    reason: str | None = None,
) -> None:
    bundle, _ = hospital_message(
        event,
        sender=sender,
        receiver=receiver,
        referral_id=referral_id,
        status=status,
        status_reason=reason,
    )
    response = await client.post(
        "/fhir/$process-message", json=bundle, headers={**FHIR_JSON, **as_hospital(sender)}
    )
    assert response.status_code == 200, response.text


@dataclass(frozen=True)
class Referrals:
    requested: str  # Sikao -> Trang, still requested
    accepted: str  # Sikao -> Trang, accepted by Trang
    cancelled: str  # Sikao -> Trang, cancelled by Sikao
    other: str  # Kantang -> Trang: none of Sikao's business
    last_updated: dict[str, str]  # Task id -> meta.lastUpdated


@pytest.fixture(scope="module")
async def referrals(referral_api: httpx.AsyncClient) -> Referrals:
    requested = await refer(referral_api)
    accepted = await refer(referral_api)
    cancelled = await refer(referral_api)
    other = await refer(referral_api, sender=OTHER_SPOKE)
    await send(
        referral_api,
        "referral-accepted",
        sender=HUB,
        receiver=SPOKE,
        referral_id=accepted,
        status="accepted",
    )
    await send(
        referral_api,
        "referral-cancelled",
        sender=SPOKE,
        receiver=HUB,
        referral_id=cancelled,
        status="cancelled",
        reason="Symptoms resolved",
    )
    last_updated = {}
    for referral_id in (requested, accepted, cancelled):
        task = fhir(await referral_api.get(f"/fhir/Task/{referral_id}"), Task)
        assert task.meta is not None
        assert task.meta.lastUpdated is not None
        last_updated[referral_id] = task.model_dump(mode="json")["meta"]["lastUpdated"]
    return Referrals(requested, accepted, cancelled, other, last_updated)


# --- read -------------------------------------------------------------------------------------


async def test_task_read_by_the_requester(
    referral_api: httpx.AsyncClient, referrals: Referrals
) -> None:
    task = fhir(await referral_api.get(f"/fhir/Task/{referrals.requested}"), Task)
    assert task.id == referrals.requested
    assert task.status == "requested"
    assert task.intent == "order"
    assert task.requester.reference == f"Organization/{SPOKE}"  # type: ignore[union-attr]
    assert task.owner.reference == f"Organization/{HUB}"  # type: ignore[union-attr]
    assert task.focus.reference == f"ServiceRequest/sr-{referrals.requested}"  # type: ignore[union-attr]
    assert task.for_fhir.reference == f"Patient/p-{referrals.requested}"  # type: ignore[union-attr]


async def test_task_read_by_the_owner_shows_status_and_reason(
    referral_api: httpx.AsyncClient, referrals: Referrals
) -> None:
    accepted = fhir(
        await referral_api.get(f"/fhir/Task/{referrals.accepted}", headers=as_hospital(HUB)), Task
    )
    assert accepted.status == "accepted"
    cancelled = fhir(
        await referral_api.get(f"/fhir/Task/{referrals.cancelled}", headers=as_hospital(HUB)), Task
    )
    assert cancelled.status == "cancelled"
    assert cancelled.statusReason.text == "Symptoms resolved"  # type: ignore[union-attr]


async def test_task_read_by_another_hospital_is_forbidden(
    referral_api: httpx.AsyncClient, referrals: Referrals
) -> None:
    response = await referral_api.get(
        f"/fhir/Task/{referrals.requested}", headers=as_hospital(STRANGER)
    )
    assert "other hospitals" in outcome(response, 403)


async def test_unknown_task_is_not_found_and_a_key_is_required(
    referral_api: httpx.AsyncClient, referrals: Referrals
) -> None:
    outcome(await referral_api.get("/fhir/Task/no-such-referral"), 404)
    anonymous = await referral_api.get(
        f"/fhir/Task/{referrals.requested}", headers={"Authorization": ""}
    )
    outcome(anonymous, 401)


async def test_service_request_read_follows_the_task(
    referral_api: httpx.AsyncClient, referrals: Referrals
) -> None:
    active = fhir(
        await referral_api.get(f"/fhir/ServiceRequest/sr-{referrals.accepted}"), ServiceRequest
    )
    assert active.id == f"sr-{referrals.accepted}"
    assert active.status == "active"
    assert active.intent == "order"
    assert active.subject.reference == f"Patient/p-{referrals.accepted}"
    assert active.requester.reference == f"Organization/{SPOKE}"  # type: ignore[union-attr]
    assert [p.reference for p in active.performer or []] == [f"Organization/{HUB}"]
    assert active.code.coding[0].code == "3457005"  # type: ignore[union-attr, index]
    revoked = fhir(
        await referral_api.get(f"/fhir/ServiceRequest/sr-{referrals.cancelled}"), ServiceRequest
    )
    assert revoked.status == "revoked"
    outcome(await referral_api.get(f"/fhir/ServiceRequest/{referrals.accepted}"), 404)
    forbidden = await referral_api.get(
        f"/fhir/ServiceRequest/sr-{referrals.accepted}", headers=as_hospital(STRANGER)
    )
    outcome(forbidden, 403)


def test_every_task_status_has_a_service_request_status() -> None:
    assert set(SERVICE_REQUEST_STATUS) == set(TaskStatus)


# --- search -----------------------------------------------------------------------------------


async def test_task_search_by_status_returns_only_the_callers_referrals(
    referral_api: httpx.AsyncClient, referrals: Referrals
) -> None:
    bundle = searchset(await referral_api.get("/fhir/Task", params={"status": "accepted"}))
    assert referrals.accepted in ids(bundle)
    assert not ids(bundle) & {referrals.requested, referrals.cancelled, referrals.other}
    assert all(e.resource.status == "accepted" for e in bundle.entry or [])  # type: ignore[union-attr]
    assert all(f"Organization/{SPOKE}" in pair for pair in parties(bundle))

    either = searchset(
        await referral_api.get("/fhir/Task", params={"status": "requested,cancelled"})
    )
    assert {referrals.requested, referrals.cancelled} <= ids(either)
    assert referrals.accepted not in ids(either)


async def test_task_search_by_owner_and_requester(
    referral_api: httpx.AsyncClient, referrals: Referrals
) -> None:
    since = {"_lastUpdated": f"ge{referrals.last_updated[referrals.requested]}"}
    mine = searchset(
        await referral_api.get("/fhir/Task", params={"owner": f"Organization/{HUB}", **since})
    )
    assert {referrals.requested, referrals.accepted, referrals.cancelled} <= ids(mine)
    assert referrals.other not in ids(mine)  # Kantang's referral: not Sikao's to see
    assert mine.total == len(mine.entry or [])

    hubs_view = searchset(
        await referral_api.get(
            "/fhir/Task", params={"owner": HUB, **since}, headers=as_hospital(HUB)
        )
    )
    assert {referrals.requested, referrals.other} <= ids(hubs_view)

    by_requester = searchset(
        await referral_api.get(
            "/fhir/Task", params={"requester": OTHER_SPOKE}, headers=as_hospital(HUB)
        )
    )
    assert referrals.other in ids(by_requester)
    assert referrals.requested not in ids(by_requester)
    assert all(pair[0] == f"Organization/{OTHER_SPOKE}" for pair in parties(by_requester))

    none_for_sikao = searchset(
        await referral_api.get("/fhir/Task", params={"requester": OTHER_SPOKE})
    )
    assert referrals.other not in ids(none_for_sikao)


async def test_task_search_by_patient_and_by_a_stranger(
    referral_api: httpx.AsyncClient, referrals: Referrals
) -> None:
    patient = {"patient": f"Patient/p-{referrals.cancelled}"}
    found = searchset(await referral_api.get("/fhir/Task", params=patient))
    assert ids(found) == {referrals.cancelled}
    assert found.total == 1
    strangers = searchset(
        await referral_api.get("/fhir/Task", params=patient, headers=as_hospital(STRANGER))
    )
    assert strangers.total == 0
    assert not strangers.entry


async def test_task_search_by_last_updated(
    referral_api: httpx.AsyncClient, referrals: Referrals
) -> None:
    ours = {referrals.requested, referrals.accepted, referrals.cancelled}
    first = referrals.last_updated[referrals.requested]
    last = max(referrals.last_updated.values())

    async def found(*conditions: str) -> set[str]:
        params = {"_lastUpdated": list(conditions)}  # repeated: ANDed
        return ids(searchset(await referral_api.get("/fhir/Task", params=params))) & ours

    assert await found(f"ge{first}") == ours
    assert await found(f"gt{first}") == ours - {referrals.requested}
    assert await found(f"lt{first}") == set()
    assert await found(f"eq{first}") == {referrals.requested}
    assert await found(f"{first}") == {referrals.requested}  # no prefix: eq
    assert await found(f"ne{first}") == ours - {referrals.requested}
    assert await found(f"ge{first}", f"lt{last}") == ours - {
        r for r, at in referrals.last_updated.items() if at == last
    }
    assert await found(f"le{last}") == ours

    # The same instant on the province's clock, "+" left unencoded by a careless client.
    local = datetime.fromisoformat(first).astimezone(BANGKOK).isoformat()
    response = await referral_api.get(f"/fhir/Task?_lastUpdated=eq{local}")
    assert ids(searchset(response)) & ours == {referrals.requested}


async def test_search_pages_with_count_and_next_links(
    referral_api: httpx.AsyncClient, referrals: Referrals
) -> None:
    patients = f"Patient/p-{referrals.requested},Patient/p-{referrals.accepted}"
    first = searchset(
        await referral_api.get("/fhir/Task", params={"patient": patients, "_count": "1"})
    )
    assert first.total == 2
    assert len(first.entry or []) == 1
    next_url = next(link.url for link in first.link or [] if link.relation == "next")
    second = searchset(await referral_api.get(str(next_url)))
    assert len(second.entry or []) == 1
    assert ids(first) | ids(second) == {referrals.requested, referrals.accepted}
    assert not any(link.relation == "next" for link in second.link or [])

    counted = searchset(
        await referral_api.get("/fhir/Task", params={"patient": patients, "_count": "0"})
    )
    assert counted.total == 2
    assert not counted.entry


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"subject": "Patient/p-1"}, "'subject'"),
        ({"status:not": "accepted"}, "'status:not'"),
        ({"_sort": "-_lastUpdated"}, "'_sort'"),
        ({"status": "bogus"}, "'bogus'"),
        ({"_lastUpdated": "2026-11-31"}, "_lastUpdated"),
        ({"_lastUpdated": "xx2026-11-23T10:00:00Z"}, "_lastUpdated"),
        ({"_count": "many"}, "_count"),
    ],
)
async def test_bad_task_searches_are_refused_naming_the_parameter(
    referral_api: httpx.AsyncClient, query: dict[str, str], named: str
) -> None:
    assert named in outcome(await referral_api.get("/fhir/Task", params=query), 400)


async def test_service_request_search(
    referral_api: httpx.AsyncClient, referrals: Referrals
) -> None:
    since = {"_lastUpdated": f"ge{referrals.last_updated[referrals.requested]}"}
    active = searchset(
        await referral_api.get(
            "/fhir/ServiceRequest",
            params={"status": "active", "performer": f"Organization/{HUB}", **since},
        )
    )
    assert {f"sr-{referrals.requested}", f"sr-{referrals.accepted}"} <= ids(active)
    assert f"sr-{referrals.cancelled}" not in ids(active)
    assert f"sr-{referrals.other}" not in ids(active)
    assert all(e.resource.status == "active" for e in active.entry or [])  # type: ignore[union-attr]
    for entry in active.entry or []:
        ServiceRequest.model_validate(entry.resource.model_dump(mode="json"))  # type: ignore[union-attr]

    revoked = searchset(
        await referral_api.get(
            "/fhir/ServiceRequest",
            params={"status": "revoked", "patient": f"Patient/p-{referrals.cancelled}"},
        )
    )
    assert ids(revoked) == {f"sr-{referrals.cancelled}"}

    by_requester = searchset(
        await referral_api.get(
            "/fhir/ServiceRequest",
            params={"requester": f"Organization/{SPOKE}", **since},
        )
    )
    assert f"sr-{referrals.accepted}" in ids(by_requester)

    assert "'owner'" in outcome(
        await referral_api.get("/fhir/ServiceRequest", params={"owner": HUB}), 400
    )
    assert "'accepted'" in outcome(
        await referral_api.get("/fhir/ServiceRequest", params={"status": "accepted"}), 400
    )


# --- metadata, CodeSystems, AsyncAPI (no API key needed) --------------------------------------


@pytest.fixture
async def anonymous(referral_api: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=referral_api.base_url, timeout=30) as client:
        yield client


async def test_metadata_is_a_capability_statement(anonymous: httpx.AsyncClient) -> None:
    statement = fhir(await anonymous.get("/fhir/metadata"), CapabilityStatement)
    assert statement.fhirVersion == "4.3.0"
    assert statement.status == "active"
    assert statement.kind == "instance"
    assert statement.format
    assert "json" in statement.format
    rest = statement.rest[0]  # type: ignore[index]
    assert rest.mode == "server"
    resources = {r.type: r for r in rest.resource or []}
    for kind, params in (
        ("Task", {"status", "owner", "requester", "patient", "_lastUpdated"}),
        ("ServiceRequest", {"status", "requester", "performer", "patient", "_lastUpdated"}),
    ):
        assert {i.code for i in resources[kind].interaction or []} == {"read", "search-type"}
        assert {p.name for p in resources[kind].searchParam or []} == params
    assert [o.name for o in rest.operation or []] == ["validate", "process-message"]
    supported = {
        str(m.definition).rsplit("/", 1)[-1]
        for m in statement.messaging[0].supportedMessage or []  # type: ignore[index]
    }
    assert {
        "stroke-prealert",
        "referral-requested",
        "referral-received",
        "referral-accepted",
        "referral-declined",
        "referral-cancelled",
        "transfer-departed",
        "patient-arrived",
        "clinical-update",
        "referral-completed",
    } <= supported
    assert "notification-requested" not in supported


async def test_code_systems_are_served_at_stable_urls(anonymous: httpx.AsyncClient) -> None:
    milestone = fhir(await anonymous.get("/fhir/CodeSystem/milestone"), CodeSystem)
    assert milestone.url == f"{PROJECT_CANONICAL}/CodeSystem/milestone"
    assert milestone.version == CODESYSTEM_VERSION
    assert "needle" in {c.code for c in milestone.concept or []}

    everything = searchset(await anonymous.get("/fhir/CodeSystem"))
    assert ids(everything) == {
        "event",
        "milestone",
        "decline-reason",
        "stroke-observation",
        "service-category",
        "notification-category",
        "notification-channel",
        "notification-failure",
        "stroke-capability",
    }
    for entry in everything.entry or []:
        CodeSystem.model_validate(entry.resource.model_dump(mode="json"))  # type: ignore[union-attr]
    by_url = searchset(await anonymous.get("/fhir/CodeSystem", params={"url": EVENT_SYSTEM}))
    assert ids(by_url) == {"event"}
    outcome(await anonymous.get("/fhir/CodeSystem/nothing"), 404)
    outcome(await anonymous.get("/fhir/CodeSystem", params={"name": "event"}), 400)


async def test_asyncapi_lists_the_topics_hospital_systems_use(
    anonymous: httpx.AsyncClient,
) -> None:
    response = await anonymous.get("/asyncapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["asyncapi"] == "3.0.0"
    addresses = {channel["address"] for channel in document["channels"].values()}
    # Each hospital's own topics, named with its id: the only ones its Kafka user may use.
    assert addresses == {HOSPITAL_INBOUND_TOPICS.address, HOSPITAL_RESPONSE_TOPICS.address}
    for channel in document["channels"].values():
        assert set(channel["parameters"]) == {"organizationId"}
    for internal in (NOTIFICATION_REQUESTS, NOTIFICATION_OUTCOMES, TELEMEDICINE_EVENTS):
        assert internal.name not in response.text
    assert f'"{REFERRAL_EVENTS.name}"' not in response.text  # hospitals may not read it
    # A $ref is a URI fragment: the channel key's braces are percent-encoded (RFC 6901, 6).
    actions: dict[str, str] = {}
    for operation in document["operations"].values():
        channel = unquote(operation["channel"]["$ref"].rsplit("/", 1)[-1])
        actions[document["channels"][channel]["address"]] = operation["action"]
    assert actions == {
        HOSPITAL_INBOUND_TOPICS.address: "receive",
        HOSPITAL_RESPONSE_TOPICS.address: "send",
    }
    for message in document["components"]["messages"].values():
        assert message["contentType"] == "application/fhir+json"
        assert message["payload"] == {"$ref": "#/components/schemas/FhirMessageBundle"}

    page = await anonymous.get("/asyncapi")
    assert page.status_code == 200
    assert "AsyncApiStandalone" in page.text
