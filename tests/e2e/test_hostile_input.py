"""Hostile and careless input over HTTP: every one is a 4xx OperationOutcome naming what is wrong,
none is a server error, and nothing of it is stored. Each case gave a 500 or was accepted on the
main branch this was written against (see the README, "Reliability and security")."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.e2e.harness import SERVICE_PORTS
from tests.support import as_hospital, hospital_message, referral_bundle

pytestmark = pytest.mark.e2e

FHIR_JSON = {"Content-Type": "application/fhir+json"}
Request = Callable[[httpx.AsyncClient], Any]


def _referral(change: Callable[[dict[str, Any]], None]) -> tuple[str, str]:
    """The example referral, changed, as JSON text; and its referral id."""
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    change(bundle)
    return json.dumps(bundle), referral_id


def _resource(bundle: dict[str, Any], kind: str, prefix: str = "") -> dict[str, Any]:
    found: dict[str, Any] = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == kind and e["resource"]["id"].startswith(prefix)
    )
    return found


def _set_nihss(value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda bundle: _resource(bundle, "Observation", "nihss").update(valueInteger=value)


def _set_hn(value: str) -> Callable[[dict[str, Any]], None]:
    return lambda bundle: _resource(bundle, "Patient")["identifier"][0].update(value=value)


def _two_headers(bundle: dict[str, Any]) -> None:
    bundle["entry"].append(json.loads(json.dumps(bundle["entry"][0])))


def _modifier(bundle: dict[str, Any]) -> None:
    _resource(bundle, "Task")["modifierExtension"] = [{"url": "urn:x", "valueBoolean": True}]


def _needle_2569(bundle: dict[str, Any]) -> None:
    _resource(bundle, "Observation", "lkw")["effectiveDateTime"] = "2569-11-23T08:00:00+07:00"


def _accept_by(end: str) -> Callable[[dict[str, Any]], None]:
    return lambda bundle: _resource(bundle, "Task").update(restriction={"period": {"end": end}})


CONTENT_CASES = {
    "nihss-true": (_set_nihss(True), 400, "resource.valueInteger"),
    "nihss-string": (_set_nihss("12"), 400, "resource.valueInteger"),
    "nul-in-hospital-number": (_set_hn("HN\u0000001"), 400, "identifier[0].value"),
    "one-megabyte-hospital-number": (_set_hn("H" * 1_000_000), 400, "identifier[0].value"),
    "hospital-number-over-64": (_set_hn("H" * 100), 400, "identifier[0].value"),
    "two-message-headers": (_two_headers, 400, "Bundle.entry["),
    "modifier-extension": (_modifier, 400, "modifierExtension"),
    "buddhist-era-lkw": (_needle_2569, 400, "effectiveDateTime"),
    "buddhist-era-accept-by": (
        _accept_by("2569-11-30T10:00:00+07:00"),
        400,
        "restriction.period.end",
    ),
    "accept-by-next-year": (
        _accept_by("2027-11-30T10:00:00+07:00"),
        422,
        "Task.restriction.period.end",
    ),
}


@pytest.mark.parametrize("case", CONTENT_CASES)
async def test_bad_referral_content_is_refused_and_nothing_is_stored(
    referral_api: httpx.AsyncClient, case: str
) -> None:
    change, status, expression = CONTENT_CASES[case]
    text, referral_id = _referral(change)
    response = await referral_api.post("/fhir/$process-message", content=text, headers=FHIR_JSON)
    assert response.status_code == status, response.text[:500]
    issue = response.json()["issue"][0]
    assert any(expression in e for e in issue["expression"]), issue
    assert (await referral_api.get(f"/fhir/Task/{referral_id}")).status_code == 404


def _nested(depth: int) -> str:
    return '{"resourceType":"Bundle","type":"message","entry":' + "[" * depth + "]" * depth + "}"


RAW_CASES = {
    "integer-of-5000-digits": ('{"resourceType":"Bundle","total":' + "1" * 5000 + "}", 400),
    "nested-10000-deep": (_nested(10_000), 400),
    "nested-100000-deep": (_nested(100_000), 400),
    "two-megabyte-body": ('{"resourceType":"Bundle","x":"' + "x" * 2_000_000 + '"}', 413),
}


@pytest.mark.parametrize("case", RAW_CASES)
async def test_oversized_or_pathological_bodies_are_refused_without_a_server_error(
    referral_api: httpx.AsyncClient, case: str
) -> None:
    body, status = RAW_CASES[case]
    response = await referral_api.post("/fhir/$process-message", content=body, headers=FHIR_JSON)
    assert response.status_code == status
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_a_30000_entry_bundle_is_refused_by_count(referral_api: httpx.AsyncClient) -> None:
    bundle, _, _ = referral_bundle(teleconsult=False)
    entry = bundle["entry"][-1]
    bundle["entry"] = [bundle["entry"][0], *[entry] * 29_999]
    body = json.dumps(bundle, separators=(",", ":"))
    response = await referral_api.post("/fhir/$process-message", content=body, headers=FHIR_JSON)
    # Over the body limit as a whole; each part of it would be refused on its own too.
    assert response.status_code in (400, 413)
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_control_characters_in_a_decline_reason_are_refused(
    referral_api: httpx.AsyncClient,
) -> None:
    text, referral_id = _referral(lambda bundle: None)
    assert (
        await referral_api.post("/fhir/$process-message", content=text, headers=FHIR_JSON)
    ).status_code == 200
    decline, _ = hospital_message(
        "referral-declined",
        sender="trang-hospital",
        receiver="sikao-hospital",
        referral_id=referral_id,
        status="rejected",
        status_reason="PLACEHOLDER",
    )
    body = json.dumps(decline).replace("PLACEHOLDER", "no CT\\u0000 today")
    response = await referral_api.post(
        "/fhir/$process-message",
        content=body,
        headers={**FHIR_JSON, **as_hospital("trang-hospital")},
    )
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == [
        "Bundle.entry[1].resource.statusReason.text"
    ]
    task = await referral_api.get(f"/fhir/Task/{referral_id}")
    assert task.json()["status"] == "requested"


@pytest.mark.parametrize(
    ("path", "expression"),
    [
        ("/fhir/Task?_offset=99999999999999999999", "_offset"),
        ("/fhir/Task?_count=99999999999999999999", "_count"),
        ("/fhir/Task?owner=trang%00", "owner"),
        ("/fhir/Task?status%00=requested", "status"),
        ("/fhir/Task?%0C=null", None),
        ("/reports/kpi?month=2569-13", "month"),
        ("/reports/kpi?month=2569-11", "month"),
        ("/referrals/ref%00x", None),
    ],
)
async def test_bad_search_and_report_parameters_are_refused(
    referral_api: httpx.AsyncClient, path: str, expression: str | None
) -> None:
    response = await referral_api.get(path)
    assert response.status_code == 400, response.text
    issue = response.json()["issue"][0]
    if expression is not None:
        assert issue["expression"] == [expression]


async def test_a_report_for_a_buddhist_era_month_says_so(referral_api: httpx.AsyncClient) -> None:
    response = await referral_api.get("/reports/kpi", params={"month": "2569-11"})
    assert "Buddhist-era year (BE 2569 = CE 2026)" in response.json()["issue"][0]["diagnostics"]


async def test_a_nul_in_the_sign_in_form_is_refused_like_a_wrong_password(
    referral_api: httpx.AsyncClient,
) -> None:
    response = await referral_api.post(
        "/app/login", data={"username": "nurse\x00sikao", "password": "x\x00"}
    )
    # 401, or 429 once such sign-ins have failed often (they share one counter): never a 500.
    assert response.status_code in (401, 429)
    assert "ft_session" not in response.cookies


async def test_an_oversized_header_block_is_refused() -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{SERVICE_PORTS['referral']}") as api:
        response = await api.get("/fhir/metadata", headers={"X-Padding": "x" * 20_000})
    assert response.status_code == 431
