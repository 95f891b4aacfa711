"""Who may do what: every HTTP route of the three services, and every message a hospital system
sends (Kafka inbound or $process-message, one code path), for every kind of caller: the referring
hospital's system, the receiving hospital's, a third hospital's, an operators' tool (its own
key, apart from the hospitals'), and a caller without credentials. The routes are found by
walking the apps, so a new route without a policy here fails the test. People reach the
services through the proxy with a signed identity: tests/e2e/test_one_origin.py."""

from __future__ import annotations

import enum
import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.routing import Mount

from services.notifier.bootstrap import create_app as notifier_app
from services.referral.bootstrap import create_app as referral_app
from services.referral.domain import lifecycle
from services.telemedicine.bootstrap import create_app as telemedicine_app
from shared.fhir.codes import EventCode
from tests.e2e.harness import SERVICE_PORTS
from tests.e2e.test_consult_first import consult_request
from tests.support import (
    TestStack,
    as_hospital,
    as_operator,
    eventually,
    hospital_message,
    referral_bundle,
)

pytestmark = pytest.mark.e2e

REQUESTER, OWNER, THIRD, ANONYMOUS = "requester", "owner", "third", "anonymous"
OPERATOR = "operator"
ROLES = (REQUESTER, OWNER, THIRD, OPERATOR, ANONYMOUS)
HOSPITAL_OF = {REQUESTER: "sikao-hospital", OWNER: "trang-hospital", THIRD: "palian-hospital"}
FHIR_JSON = {"Content-Type": "application/fhir+json"}


class Policy(enum.Enum):
    PUBLIC = "anyone"
    HOSPITAL = "any hospital's system, for itself"
    PARTIES = "the two hospitals of the referral"
    PARTIES_OR_OPERATOR = "the two hospitals of the referral, and operators"
    OPERATOR = "operators only"
    # The query itself keeps a third hospital out: it is told 404 (or shown an empty list),
    # as for something that does not exist.
    PARTIES_UNSEEN = "the two hospitals of the consult; the rest find nothing"
    FORWARD_AUTH = "the proxy asking with a person's session cookie, never an API key"
    ALERTED = "the hospital the alert went to"
    SELF = "only the hospital named in the path"
    SECRET = "only with the route's own secret (signature, token, ticket), never an API key"
    # The clinicians' web app (services/referral/entrypoints/deps.py PersonDep, ActionDep): a
    # hospital system's API key opens none of it; without a session the answer is the sign-in
    # page (303 to /app/login?next=...). What each role and hospital sees is tested in
    # tests/browser and tests/e2e/test_web_sessions.py.
    PERSON = "a signed-in person of the web app (a session), never an API key"
    # A home-isolation episode's changes: the hospital that manages it (the requester here);
    # its consultant hospital (the owner) is refused, a third finds nothing.
    MANAGER = "the hospital managing the episode; its consultant refused, the rest find nothing"


def allowed(policy: Policy, role: str) -> bool:
    return {
        Policy.PUBLIC: True,
        Policy.HOSPITAL: role not in (ANONYMOUS, OPERATOR),
        Policy.PARTIES: role in (REQUESTER, OWNER),
        Policy.PARTIES_OR_OPERATOR: role in (REQUESTER, OWNER, OPERATOR),
        Policy.OPERATOR: role == OPERATOR,
        Policy.PARTIES_UNSEEN: role in (REQUESTER, OWNER),
        Policy.FORWARD_AUTH: False,
        Policy.ALERTED: role == OWNER,
        Policy.SELF: role == REQUESTER,
        Policy.SECRET: False,
        Policy.PERSON: False,
        Policy.MANAGER: role == REQUESTER,
    }[policy]


POLICIES: dict[tuple[str, str, str], Policy] = {
    **{
        (service, "GET", path): Policy.PUBLIC
        for service in SERVICE_PORTS
        for path in (
            *("/health", "/health/live", "/health/ready"),
            # Aggregates for the deployment's scraper, never patient data (test_personal_data).
            "/metrics",
            *("/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"),
            "/api-docs-assets/{path}",  # the API pages' scripts and styles (shared/api_docs.py)
        )
    },
    ("referral", "POST", "/fhir/$process-message"): Policy.HOSPITAL,
    ("referral", "PUT", "/directory/{organization_id}/availability"): Policy.SELF,
    ("referral", "GET", "/directory"): Policy.HOSPITAL,
    ("referral", "GET", "/referrals/{referral_id}"): Policy.PARTIES,
    ("referral", "GET", "/reports/kpi"): Policy.HOSPITAL,
    ("referral", "GET", "/fhir/Task/{task_id}"): Policy.PARTIES,
    ("referral", "GET", "/fhir/Task"): Policy.HOSPITAL,
    ("referral", "GET", "/fhir/ServiceRequest/{request_id}"): Policy.PARTIES,
    ("referral", "GET", "/fhir/ServiceRequest"): Policy.HOSPITAL,
    **{
        ("referral", "GET", path): Policy.PUBLIC
        for kind in ("CodeSystem", "ValueSet", "StructureDefinition", "MessageDefinition")
        for path in (f"/fhir/{kind}", f"/fhir/{kind}/{{resource_id}}")
    },
    ("referral", "POST", "/fhir/Bundle/$validate"): Policy.HOSPITAL,
    ("referral", "GET", "/fhir/metadata"): Policy.PUBLIC,
    ("referral", "GET", "/asyncapi.json"): Policy.PUBLIC,
    ("referral", "GET", "/asyncapi"): Policy.PUBLIC,
    ("referral", "GET", "/static/{path}"): Policy.PUBLIC,
    ("referral", "GET", "/app/session/identity"): Policy.FORWARD_AUTH,
    ("referral", "GET", "/app/login"): Policy.PUBLIC,
    ("referral", "POST", "/app/login"): Policy.PUBLIC,
    ("referral", "POST", "/app/logout"): Policy.PERSON,
    ("referral", "GET", "/app/"): Policy.PERSON,
    ("referral", "GET", "/app/settings"): Policy.PERSON,
    ("referral", "POST", "/app/settings"): Policy.PERSON,
    ("referral", "GET", "/app/admin/users"): Policy.PERSON,
    ("referral", "POST", "/app/admin/users"): Policy.PERSON,
    **{
        ("referral", "POST", f"/app/admin/users/{{user_id}}/{change}"): Policy.PERSON
        for change in ("role", "password", "disable", "enable")
    },
    ("referral", "GET", "/app/board"): Policy.PERSON,
    ("referral", "POST", "/app/board/{referral_id}/acknowledge"): Policy.PERSON,
    ("referral", "POST", "/app/board/{referral_id}/accept"): Policy.PERSON,
    ("referral", "POST", "/app/board/{referral_id}/decline"): Policy.PERSON,
    ("referral", "GET", "/app/referrals"): Policy.PERSON,
    ("referral", "GET", "/app/kpi"): Policy.PERSON,
    ("referral", "GET", "/app/kpi.csv"): Policy.PERSON,
    ("referral", "GET", "/app/events"): Policy.PERSON,
    ("referral", "GET", "/app/referrals/new"): Policy.PERSON,
    ("referral", "POST", "/app/referrals/preview"): Policy.PERSON,
    ("referral", "POST", "/app/referrals"): Policy.PERSON,
    ("referral", "GET", "/app/referrals/{referral_id}"): Policy.PERSON,
    ("referral", "GET", "/app/referrals/{referral_id}/live"): Policy.PERSON,
    ("referral", "POST", "/app/referrals/{referral_id}/milestones"): Policy.PERSON,
    # The operators' console: pages of the web app (a person with the operator role; which
    # roles are refused is tested in tests/browser/test_operator_console.py) ...
    **{
        ("referral", method, f"/app/console{path}"): Policy.PERSON
        for method, path in (
            ("GET", ""),
            ("GET", "/"),
            ("GET", "/health"),
            ("GET", "/audit"),
            ("GET", "/dead-letters"),
            ("POST", "/dead-letters/replay"),
        )
    },
    # ... and the other services' parts of it, behind the proxy: read with the signed identity
    # or an operator's key (as /dead-letters); a replay only by a signed-in operator (audited).
    **{
        (service, "GET", path): Policy.OPERATOR
        for service, path in (
            ("notifier", "/app/console/notifier/audit"),
            ("notifier", "/app/console/notifier/dead-letters"),
            ("notifier", "/app/console/{service}/outbox"),
            ("telemedicine", "/app/console/{service}/outbox"),
        )
    },
    ("notifier", "POST", "/app/console/notifier/replay"): Policy.SECRET,
    ("notifier", "GET", "/deliveries"): Policy.PARTIES_OR_OPERATOR,
    ("notifier", "GET", "/on-call"): Policy.HOSPITAL,
    ("notifier", "GET", "/dead-letters"): Policy.OPERATOR,
    ("notifier", "POST", "/deliveries/{delivery_id}/replay"): Policy.OPERATOR,
    ("notifier", "POST", "/deliveries/{delivery_id}/acknowledge"): Policy.ALERTED,
    ("notifier", "POST", "/line/webhook"): Policy.SECRET,
    ("notifier", "POST", "/live/tickets"): Policy.HOSPITAL,
    ("notifier", "GET", "/live/events"): Policy.HOSPITAL,
    ("notifier", "GET", "/live"): Policy.HOSPITAL,
    ("notifier", "GET", "/ack/{token}"): Policy.SECRET,
    ("notifier", "POST", "/ack/{token}"): Policy.SECRET,
    ("notifier", "POST", "/sms/delivery-reports"): Policy.SECRET,
    ("notifier", "GET", "/static/notifier/{path}"): Policy.PUBLIC,
    ("telemedicine", "GET", "/consults"): Policy.PARTIES_UNSEEN,
    ("telemedicine", "GET", "/consults/{consult_id}"): Policy.PARTIES_UNSEEN,
    ("telemedicine", "POST", "/consults/{consult_id}/steps"): Policy.PARTIES_UNSEEN,
    ("telemedicine", "POST", "/consults/{consult_id}/join"): Policy.PARTIES_UNSEEN,
    ("telemedicine", "POST", "/consults/{consult_id}/recommendations"): Policy.PARTIES_UNSEEN,
    ("telemedicine", "GET", "/consults/{consult_id}/recommendations"): Policy.PARTIES_UNSEEN,
    ("telemedicine", "POST", "/consults/{consult_id}/needle"): Policy.PARTIES_UNSEEN,
    ("telemedicine", "GET", "/static/telemedicine/{path}"): Policy.PUBLIC,
    # A consult asked before any referral (tests/e2e/test_consult_first.py): any hospital's
    # system, in its own name.
    ("telemedicine", "POST", "/fhir/$process-message"): Policy.HOSPITAL,
    # The consult pages take the web app's signed identity (tests/e2e/test_consult_pages.py),
    # never an API key.
    **{
        ("telemedicine", method, f"/app/consults{path}"): Policy.SECRET
        for method, path in (
            ("GET", "/"),
            ("GET", "/new"),
            ("POST", "/new"),
            ("GET", "/{consult_id}"),
            ("POST", "/{consult_id}/steps"),
            ("POST", "/{consult_id}/join"),
            ("POST", "/{consult_id}/recommendations"),
            ("GET", "/{consult_id}/advice"),
            ("POST", "/{consult_id}/needle"),
        )
    },
    ("telemedicine", "POST", "/monitoring/episodes"): Policy.HOSPITAL,
    ("telemedicine", "GET", "/monitoring/episodes/{episode_id}"): Policy.PARTIES_UNSEEN,
    ("telemedicine", "POST", "/monitoring/episodes/{episode_id}/flag"): Policy.MANAGER,
    ("telemedicine", "POST", "/monitoring/episodes/{episode_id}/finish"): Policy.MANAGER,
    # The nurses' monitoring pages take the web app's signed identity, as the consult pages.
    **{
        ("telemedicine", method, f"/app/monitoring{path}"): Policy.SECRET
        for method, path in (
            ("GET", "/"),
            ("GET", "/enrol"),
            ("POST", "/enrol"),
            ("GET", "/{episode_id}"),
            ("POST", "/{episode_id}/flag"),
            ("POST", "/{episode_id}/finish"),
        )
    },
    # A patient's check-in form opens with its signed link only.
    ("telemedicine", "GET", "/check-in/{token}"): Policy.SECRET,
    ("telemedicine", "POST", "/check-in/{token}"): Policy.SECRET,
}


def _routes(routes: Iterable[Any], prefix: str = "") -> Iterable[tuple[str, str]]:
    for route in routes:
        methods = getattr(route, "methods", None)
        if isinstance(route, Mount) and isinstance(route.app, StaticFiles):
            yield "GET", f"{prefix}{route.path}/{{path}}"  # a page's assets (no patient data)
        elif methods is not None:
            for method in sorted(set(methods) - {"HEAD"}):
                yield method, prefix + route.path
        else:  # an included router (FastAPI keeps them unflattened)
            inner = getattr(route, "router", None) or getattr(route, "original_router", None)
            assert inner is not None, f"unknown kind of route: {route!r}"
            yield from _routes(inner.routes, prefix + (getattr(route, "prefix", "") or ""))


def test_every_route_of_every_service_has_an_authorization_policy() -> None:
    apps: dict[str, FastAPI] = {
        "referral": referral_app(),
        "notifier": notifier_app(),
        "telemedicine": telemedicine_app(),
    }
    found = {
        (service, method, path)
        for service, app in apps.items()
        for method, path in _routes(app.router.routes)
    }
    assert found == set(POLICIES), (
        f"routes without a policy: {sorted(found - set(POLICIES))}; "
        f"policies without a route: {sorted(set(POLICIES) - found)}"
    )


@dataclass(frozen=True)
class Referral:
    """A referral from REQUESTER to OWNER with a teleconsult, accepted, so both hospitals have
    been alerted about it."""

    id: str
    consult_id: str
    owner_delivery_id: str
    # A home-isolation episode the requester manages, with the owner as its consultant.
    episode_id: str


@pytest.fixture(scope="module")
async def referral(referral_api: httpx.AsyncClient) -> Referral:
    bundle, referral_id, _ = referral_bundle(teleconsult=True)
    sent = await referral_api.post("/fhir/$process-message", json=bundle, headers=FHIR_JSON)
    assert sent.status_code == 200, sent.text
    accept, _ = hospital_message(
        "referral-accepted",
        sender=HOSPITAL_OF[OWNER],
        receiver=HOSPITAL_OF[REQUESTER],
        referral_id=referral_id,
        status="accepted",
    )
    accepted = await referral_api.post(
        "/fhir/$process-message",
        json=accept,
        headers={**FHIR_JSON, **as_hospital("trang-hospital")},
    )
    assert accepted.status_code == 200, accepted.text
    base = "http://127.0.0.1:{}"
    async with httpx.AsyncClient(headers=as_hospital(HOSPITAL_OF[OWNER])) as client:

        async def both_alerted() -> list[dict[str, Any]] | None:
            response = await client.get(
                base.format(SERVICE_PORTS["notifier"]) + "/deliveries",
                params={"referral": referral_id},
            )
            log: list[dict[str, Any]] = response.json()
            hospitals = {d["hospital"] for d in log}
            return log if {HOSPITAL_OF[OWNER], HOSPITAL_OF[REQUESTER]} <= hospitals else None

        log = await eventually(both_alerted, what="alerts to both hospitals")

        async def consult() -> list[dict[str, Any]] | None:
            response = await client.get(
                base.format(SERVICE_PORTS["telemedicine"]) + "/consults",
                params={"referral": referral_id},
            )
            found: list[dict[str, Any]] = response.json()
            return found or None

        (teleconsult,) = await eventually(consult, what="the teleconsult")
        enrolled = await client.post(
            base.format(SERVICE_PORTS["telemedicine"]) + "/monitoring/episodes",
            json={
                "patient": "Patient/matrix-patient",
                "hospital_number": "HN-MATRIX",
                "consultant_hospital": HOSPITAL_OF[OWNER],
            },
            headers=as_hospital(HOSPITAL_OF[REQUESTER]),
        )
        assert enrolled.status_code == 201, enrolled.text
    owner_delivery = next(d for d in log if d["hospital"] == HOSPITAL_OF[OWNER])
    return Referral(referral_id, teleconsult["id"], owner_delivery["id"], enrolled.json()["id"])


def _request(service: str, method: str, path: str, referral: Referral, role: str) -> dict[str, Any]:
    """A concrete, otherwise well-formed request for the route, made by ``role``."""
    values = {
        "referral_id": referral.id,
        "task_id": referral.id,
        "request_id": f"sr-{referral.id}",
        "consult_id": referral.consult_id,
        "episode_id": referral.episode_id,
        "delivery_id": referral.owner_delivery_id,
        "organization_id": HOSPITAL_OF[REQUESTER],
        "name": "event",
        "resource_id": "event",  # a CodeSystem and ValueSet id; other conformance types: 404
        "token": "not-a-signed-token",
        "path": "pages.css",
        "user_id": "1",
        "service": service,  # a service's own part of the operators' console
    }
    request: dict[str, Any] = {"method": method, "url": path.format(**values)}
    if path in ("/deliveries", "/consults"):
        request["params"] = {"referral": referral.id}
    if service == "telemedicine" and path == "/fhir/$process-message":
        # A teleconsult asked first, from the caller's hospital to another's.
        spoke = HOSPITAL_OF.get(role, HOSPITAL_OF[REQUESTER])
        hub = HOSPITAL_OF[OWNER if spoke != HOSPITAL_OF[OWNER] else REQUESTER]
        bundle, _ = consult_request(spoke=spoke, hub=hub)
        request.update(content=json.dumps(bundle), headers=FHIR_JSON)
    elif path in ("/fhir/$process-message", "/fhir/Bundle/$validate"):
        sender = HOSPITAL_OF.get(role, HOSPITAL_OF[REQUESTER])
        bundle, _, _ = referral_bundle(teleconsult=False)
        text = json.dumps(bundle).replace("Organization/sikao-hospital", f"Organization/{sender}")
        request.update(content=text, headers=FHIR_JSON)
    elif path == "/directory/{organization_id}/availability":
        request["json"] = {"unavailable": []}
    elif path == "/sms/delivery-reports":
        request["json"] = {"reference": referral.owner_delivery_id, "status": "delivered"}
    elif path == "/line/webhook":
        request["content"] = b'{"destination": "x", "events": []}'
    headers = {**request.get("headers", {}), **as_hospital(HOSPITAL_OF.get(role, ""))}
    if role == OPERATOR:
        headers.update(as_operator())
    if role == ANONYMOUS:
        headers.pop("Authorization")
    request["headers"] = headers
    return request


async def _status(client: httpx.AsyncClient, request: dict[str, Any]) -> int:
    async with client.stream(**request) as response:  # live streams answer with headers first
        if response.status_code == 200 and request["url"] == "/consults":
            # A list that shows a caller nothing tells it no more than a 404 would.
            return 404 if json.loads(await response.aread()) == [] else 200
        return response.status_code


MATRIX = [
    pytest.param(service, method, path, role, id=f"{service}:{method}:{path}:{role}")
    for (service, method, path) in POLICIES
    for role in ROLES
]


@pytest.fixture(scope="module")
async def clients() -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    clients = {
        service: httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30)
        for service, port in SERVICE_PORTS.items()
    }
    yield clients
    for client in clients.values():
        await client.aclose()


@pytest.mark.parametrize(("service", "method", "path", "role"), MATRIX)
async def test_each_route_allows_or_denies_each_kind_of_caller(
    clients: dict[str, httpx.AsyncClient],
    referral: Referral,
    service: str,
    method: str,
    path: str,
    role: str,
) -> None:
    policy = POLICIES[(service, method, path)]
    status = await _status(clients[service], _request(service, method, path, referral, role))
    if allowed(policy, role):
        assert status not in (401, 403), f"{policy.value}: {role} was refused ({status})"
        assert status < 500
    elif policy is Policy.SECRET:
        assert 400 <= status < 500, f"{policy.value}: {role} got {status}"
    elif policy is Policy.PARTIES_UNSEEN:
        # An operator's key is no hospital's: the telemedicine API does not know it (401).
        unseen = 401 if role in (ANONYMOUS, OPERATOR) else 404
        assert status == unseen, f"{policy.value}: {role} got {status}"
    elif policy is Policy.MANAGER:
        refused = {ANONYMOUS: 401, OPERATOR: 401, OWNER: 403, THIRD: 404}[role]
        assert status == refused, f"{policy.value}: {role} got {status}"
    elif policy is Policy.FORWARD_AUTH:
        assert status == 401, f"{policy.value}: {role} got {status}"
    elif policy is Policy.PERSON:
        assert status == 303, f"{policy.value}: {role} got {status}, not the sign-in page"
    else:
        # An operator's key is no hospital's: routes for hospital systems do not know it (401).
        refused = 401 if role in (ANONYMOUS, OPERATOR) else 403
        assert status == refused, f"{policy.value}: {role} got {status}"


# Who may send each lifecycle message about a referral (HL7 BSeR / IHE 360X roles).
SENDERS: dict[EventCode, tuple[str, ...]] = {
    EventCode.REFERRAL_RECEIVED: (OWNER,),
    EventCode.REFERRAL_ACCEPTED: (OWNER,),
    EventCode.REFERRAL_DECLINED: (OWNER,),
    EventCode.REFERRAL_REDIRECTED: (OWNER,),
    EventCode.REFERRAL_CANCELLED: (REQUESTER,),
    EventCode.TRANSFER_DEPARTED: (REQUESTER,),
    EventCode.PATIENT_ARRIVED: (OWNER,),
    EventCode.CLINICAL_UPDATE: (REQUESTER, OWNER),
    EventCode.REFERRAL_COMPLETED: (OWNER,),
}
TASK_STATUS = {
    EventCode.REFERRAL_RECEIVED: "received",
    EventCode.REFERRAL_ACCEPTED: "accepted",
    EventCode.REFERRAL_DECLINED: "rejected",
    EventCode.REFERRAL_REDIRECTED: "rejected",
    EventCode.REFERRAL_CANCELLED: "cancelled",
    EventCode.TRANSFER_DEPARTED: "in-progress",
    EventCode.PATIENT_ARRIVED: "in-progress",
    EventCode.CLINICAL_UPDATE: "accepted",
    EventCode.REFERRAL_COMPLETED: "completed",
}


def test_every_lifecycle_message_has_a_sender_policy() -> None:
    assert set(SENDERS) == set(lifecycle.RULES)


@pytest.mark.parametrize("event", SENDERS, ids=[e.value for e in SENDERS])
async def test_each_lifecycle_message_is_taken_only_from_its_sender(
    referral_api: httpx.AsyncClient, stack: TestStack, event: EventCode
) -> None:
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    assert (
        await referral_api.post("/fhir/$process-message", json=bundle, headers=FHIR_JSON)
    ).status_code == 200
    # Refusals first (they change nothing), then each allowed sender.
    for role in sorted((REQUESTER, OWNER, THIRD), key=lambda r: r in SENDERS[event]):
        other = HOSPITAL_OF[OWNER if role != OWNER else REQUESTER]
        message, _ = hospital_message(
            event.value,
            sender=HOSPITAL_OF[role],
            receiver=other,
            referral_id=referral_id,
            status=TASK_STATUS[event],
            status_reason="no bed" if TASK_STATUS[event] == "rejected" else None,
        )
        response = await referral_api.post(
            "/fhir/$process-message",
            json=message,
            headers={**FHIR_JSON, **as_hospital(HOSPITAL_OF[role])},
        )
        if role in SENDERS[event]:
            assert response.status_code not in (401, 403), (role, response.text)
            assert response.status_code < 500
        else:
            assert response.status_code == 403, (role, response.text)
            assert response.json()["issue"][0]["code"] == "forbidden"
