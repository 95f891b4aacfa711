"""Who may use the operators' routes (dead letters, replay) and who may read a referral's
delivery log: every kind of credential, against a table written out by hand."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from shared.auth import ApiKeys, CallerOrOperatorDep, OperatorDep
from shared.web import install_error_handlers
from shared.web_identity import IDENTITY_HEADER, IdentitySigner, PersonIdentity

SECRET = "unit-test-identity-secret"
SIGNER = IdentitySigner(secret=SECRET)


def _person(role: str, *, signer: IdentitySigner = SIGNER) -> dict[str, str]:
    return {IDENTITY_HEADER: signer.sign(PersonIdentity("trang-hospital", f"u-{role}", role, "th"))}


# Signed when the test runs (an identity lives a minute: never at collection time).
CREDENTIALS: dict[str, Callable[[], dict[str, str]]] = {
    "nobody": dict,
    "a hospital's key": lambda: {"Authorization": "Bearer hospital-key"},
    "an operator's key": lambda: {"Authorization": "Bearer operator-key"},
    "an unknown key": lambda: {"Authorization": "Bearer not-a-key"},
    "a hospital's doctor": lambda: _person("doctor"),
    "a hospital's admin": lambda: _person("hospital_admin"),
    "a signed-in operator": lambda: _person("operator"),
    "a forged identity": lambda: _person("operator", signer=IdentitySigner(secret="x")),
    # A valid operator key does not rescue a forged identity: the identity is checked first.
    "a forged identity with an operator key": lambda: {
        IDENTITY_HEADER: "forged",
        "Authorization": "Bearer operator-key",
    },
}

# (credential) -> (status on an operators' route, who the caller is on a shared route)
EXPECTED: dict[str, tuple[int, tuple[str, str | None] | int]] = {
    "nobody": (401, 401),
    "a hospital's key": (403, ("trang-hospital", "trang-hospital")),
    "an operator's key": (200, ("operator:night-shift", None)),
    "an unknown key": (401, 401),
    "a hospital's doctor": (403, ("user:u-doctor", "trang-hospital")),
    "a hospital's admin": (403, ("user:u-hospital_admin", "trang-hospital")),
    "a signed-in operator": (200, ("user:u-operator", None)),
    "a forged identity": (401, 401),
    "a forged identity with an operator key": (401, 401),
}


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    app.state.api_keys = ApiKeys({SecretStr("hospital-key"): "trang-hospital"})
    app.state.operator_keys = ApiKeys({SecretStr("operator-key"): "night-shift"})
    app.state.identity_signer = SIGNER
    install_error_handlers(app)

    @app.api_route("/operators", methods=["GET", "POST"])
    async def operators_only(caller: OperatorDep) -> dict[str, str]:
        return {"who": caller.who}

    @app.get("/shared")
    async def shared(caller: CallerOrOperatorDep) -> dict[str, str | None]:
        return {"who": caller.who, "hospital": caller.hospital}

    return TestClient(app)


def test_every_credential_has_an_expectation() -> None:
    assert set(CREDENTIALS) == set(EXPECTED)


@pytest.mark.parametrize("credential", list(CREDENTIALS))
def test_operators_routes_take_operators_only_and_refuse_with_an_operation_outcome(
    client: TestClient, credential: str
) -> None:
    response = client.get("/operators", headers=CREDENTIALS[credential]())
    assert response.status_code == EXPECTED[credential][0]
    if response.status_code != 200:
        assert response.json()["resourceType"] == "OperationOutcome"
        code = {401: "login", 403: "forbidden"}[response.status_code]
        assert response.json()["issue"][0]["code"] == code


@pytest.mark.parametrize("credential", list(CREDENTIALS))
def test_a_shared_route_knows_whose_data_the_caller_may_see(
    client: TestClient, credential: str
) -> None:
    response = client.get("/shared", headers=CREDENTIALS[credential]())
    expected = EXPECTED[credential][1]
    if isinstance(expected, int):
        assert response.status_code == expected
    else:
        assert response.status_code == 200
        assert (response.json()["who"], response.json()["hospital"]) == expected


def test_a_persons_change_must_come_from_a_page_script_not_a_cross_site_form(
    client: TestClient,
) -> None:
    person = _person("operator")
    refused = client.post("/operators", headers=person)
    assert refused.status_code == 403
    assert "X-CSRF-Token" in refused.json()["issue"][0]["diagnostics"]
    assert client.post("/operators", headers={**person, "X-CSRF-Token": "t"}).status_code == 200
    # A tool's key is not a browser's cookie: no such header needed.
    tool = {"Authorization": "Bearer operator-key"}
    assert client.post("/operators", headers=tool).json() == {"who": "operator:night-shift"}
