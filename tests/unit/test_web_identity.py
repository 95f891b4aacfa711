"""The identity the web app signs for the other services behind the proxy: it round-trips, and
it is refused when forged, signed with another secret or for another purpose, or expired; a
service then answers 401 with an OperationOutcome, never trusting the header's content."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from itsdangerous import URLSafeSerializer

from shared.signed_links import LinkSigner
from shared.web import install_error_handlers
from shared.web_identity import (
    IDENTITY_HEADER,
    ExpiredIdentity,
    HospitalPersonDep,
    IdentitySigner,
    InvalidIdentity,
    MaybePersonDep,
    PersonIdentity,
    PersonIdentityDep,
)

SECRET = "unit-test-identity-secret"
NURSE = PersonIdentity(hospital_id="sikao-hospital", user_id="u-17", role="nurse", language="th")


def test_a_signed_identity_reads_back_as_the_same_person() -> None:
    signer = IdentitySigner(secret=SECRET)
    token = signer.sign(NURSE)
    assert signer.verify(token) == NURSE
    assert token.isascii()  # fits an HTTP header as it is
    assert " " not in token
    assert not NURSE.is_operator
    assert PersonIdentity("a", "b", "operator", "en").is_operator


def _forgeries() -> dict[str, str]:
    token = IdentitySigner(secret=SECRET).sign(NURSE)
    payload, _, signature = token.rpartition(".")
    tampered = token.replace("c2lrYW8", "dHJhbmc")  # "sikao" -> "trang" inside the payload
    return {
        "another secret": IdentitySigner(secret="someone-else").sign(NURSE),
        "signature cut off": payload,
        "signature changed": f"{payload}.{signature[::-1]}",
        "payload changed": tampered if tampered != token else token[:-1],
        "plain json": json.dumps({"hospital_id": "trang-hospital", "role": "operator"}),
        "another purpose": LinkSigner(secret=SECRET, purpose="live-ticket", max_age_s=60).sign(
            "trang-hospital"
        ),
        "no timestamp": URLSafeSerializer(SECRET).dumps({"hospital_id": "trang-hospital"}),
        "empty": "",
    }


@pytest.mark.parametrize("forgery", list(_forgeries()))
def test_a_forged_identity_is_refused(forgery: str) -> None:
    with pytest.raises(InvalidIdentity):
        IdentitySigner(secret=SECRET).verify(_forgeries()[forgery])


def test_an_identity_older_than_its_lifetime_has_expired() -> None:
    signer = IdentitySigner(secret=SECRET, max_age_s=1)
    token = signer.sign(NURSE)
    time.sleep(2.1)
    with pytest.raises(ExpiredIdentity):
        signer.verify(token)


def _app(signer: IdentitySigner) -> TestClient:
    app = FastAPI()
    app.state.identity_signer = signer
    install_error_handlers(app)

    @app.get("/maybe")
    async def maybe(person: MaybePersonDep) -> dict[str, str | None]:
        return {"user": person.user_id if person else None}

    @app.get("/page")
    async def page(person: PersonIdentityDep) -> dict[str, str | None]:
        return {"hospital": person.hospital_id}

    return TestClient(app)


def test_a_service_takes_the_signed_person_and_refuses_a_forged_or_missing_one() -> None:
    signer = IdentitySigner(secret=SECRET)
    client = _app(signer)
    signed = {IDENTITY_HEADER: signer.sign(NURSE)}
    assert client.get("/page", headers=signed).json() == {"hospital": "sikao-hospital"}
    assert client.get("/maybe").json() == {"user": None}
    for path in ("/page", "/maybe"):
        forged = client.get(path, headers={IDENTITY_HEADER: _forgeries()["another secret"]})
        assert forged.status_code == 401
        assert forged.json()["resourceType"] == "OperationOutcome"
        assert forged.json()["issue"][0]["code"] == "login"
    missing = client.get("/page")
    assert missing.status_code == 401
    assert "Sign in" in missing.json()["issue"][0]["diagnostics"]


def test_an_expired_identity_is_refused_with_a_reason_to_sign_in_again() -> None:
    signer = IdentitySigner(secret=SECRET, max_age_s=1)
    client = _app(signer)
    headers = {IDENTITY_HEADER: signer.sign(NURSE)}
    time.sleep(2.1)
    refused = client.get("/page", headers=headers)
    assert refused.status_code == 401
    assert "expired" in refused.json()["issue"][0]["diagnostics"]


def test_a_hospitals_page_refuses_an_operator_who_belongs_to_no_hospital() -> None:
    app = FastAPI()
    app.state.identity_signer = IdentitySigner(secret=SECRET)
    install_error_handlers(app)

    @app.get("/hospital-page")
    async def hospital_page(person: HospitalPersonDep) -> dict[str, str]:
        return {"hospital": person.hospital_id}

    client = TestClient(app)
    signer: IdentitySigner = app.state.identity_signer
    nurse = {IDENTITY_HEADER: signer.sign(NURSE)}
    assert client.get("/hospital-page", headers=nurse).json() == {"hospital": "sikao-hospital"}
    operator = PersonIdentity(hospital_id=None, user_id="u-1", role="operator", language="en")
    refused = client.get("/hospital-page", headers={IDENTITY_HEADER: signer.sign(operator)})
    assert refused.status_code == 403
    assert refused.json()["issue"][0]["code"] == "forbidden"


def test_a_change_on_a_hospitals_page_needs_the_sessions_synchronizer_token() -> None:
    """SameSite=Lax keeps another site's form from sending the cookie, but not a sibling site's
    (another host of the same registrable domain): the proxy would vouch for the person. A form
    post or a script's change must carry the token the web app gave the person's session."""
    app = FastAPI()
    app.state.identity_signer = IdentitySigner(secret=SECRET)
    install_error_handlers(app)

    @app.post("/consults/{consult_id}/steps")
    async def step(consult_id: str, person: HospitalPersonDep, request: Request) -> dict[str, str]:
        form = await request.form()  # the route still reads the form the check parsed
        return {"by": person.user_id, "stage": str(form.get("stage"))}

    client = TestClient(app)
    signer: IdentitySigner = app.state.identity_signer
    nurse = {IDENTITY_HEADER: signer.sign(replace(NURSE, csrf_token="session-token-1"))}
    page_form = {"stage": "accepted", "csrf_token": "session-token-1"}
    accepted = client.post("/consults/c-1/steps", data=page_form, headers=nurse)
    assert accepted.json() == {"by": "u-17", "stage": "accepted"}
    scripted = client.post(
        "/consults/c-1/steps",
        data={"stage": "accepted"},
        headers={**nurse, "X-CSRF-Token": "session-token-1"},
    )
    assert scripted.status_code == 200

    forged_forms: list[tuple[dict[str, str], dict[str, str]]] = [
        ({"stage": "accepted"}, nurse),  # a sibling site's form: the cookie, no token
        ({"stage": "accepted", "csrf_token": "guessed"}, nurse),
        (page_form, {**nurse, "Sec-Fetch-Site": "cross-site"}),
        # An identity signed before it carried the token makes no change.
        (page_form, {IDENTITY_HEADER: signer.sign(NURSE)}),
    ]
    for form, headers in forged_forms:
        refused = client.post("/consults/c-1/steps", data=form, headers=headers)
        assert refused.status_code == 403, (form, headers)
        assert refused.json()["issue"][0]["code"] == "forbidden"
        assert "web app's own page" in refused.json()["issue"][0]["diagnostics"]
