"""How each refusal of the referral service is told to the sender: HTTP status and
OperationOutcome issue, from one mapping (shared/web.py), checked against a table by hand."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.referral.domain.errors import (
    InvalidReferral,
    InvalidRequest,
    NotAParty,
    ReferralConflict,
    ReferralNotFound,
    UnsupportedEvent,
)
from shared.errors import DomainError
from shared.web import install_error_handlers, refusal_outcome, refusal_status
from shared.workflow.task_state import TransitionRefused

# (the refusal, the HTTP status, the issue type), written out apart from the code.
EXPECTED: list[tuple[DomainError, int, str]] = [
    (InvalidRequest("Unknown organization 'x'"), 422, "invalid"),
    (
        InvalidReferral("NIHSS must be between 0 and 42", expression="Observation.value"),
        422,
        "invalid",
    ),
    (UnsupportedEvent("Hospital systems cannot send 'notification-sent'"), 422, "not-supported"),
    (NotAParty("Only the receiving hospital may send 'referral-accepted'"), 403, "forbidden"),
    (ReferralNotFound("ref-1"), 404, "not-found"),
    (
        TransitionRefused("A referral cannot go from 'completed' to 'accepted'"),
        409,
        "business-rule",
    ),
    (ReferralConflict("ref-1"), 409, "duplicate"),
]


@pytest.mark.parametrize(
    ("error", "status", "issue_code"), EXPECTED, ids=lambda v: type(v).__name__
)
def test_each_refusal_has_its_status_and_issue_type(
    error: DomainError, status: int, issue_code: str
) -> None:
    assert refusal_status(error) == status
    issue = refusal_outcome(error)["issue"][0]
    assert (issue["severity"], issue["code"], issue["diagnostics"]) == (
        "error",
        issue_code,
        error.reason,
    )


def test_a_refusal_names_the_element_at_fault_when_it_knows_it() -> None:
    issue = refusal_outcome(InvalidReferral("bad", expression="Task.owner"))["issue"][0]
    assert issue["expression"] == ["Task.owner"]
    assert "expression" not in refusal_outcome(NotAParty("no"))["issue"][0]


def test_the_sender_is_told_which_referral_is_unknown_or_taken() -> None:
    assert ReferralNotFound("ref-9").reason == "Unknown referral ref-9"
    assert ReferralConflict("ref-9").reason == "Referral id ref-9 is already in use"


def test_a_route_that_lets_a_refusal_through_answers_with_its_operation_outcome() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/referral")
    async def refuse() -> None:
        raise ReferralConflict("ref-7")

    response = TestClient(app).get("/referral")

    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert response.json()["issue"][0]["code"] == "duplicate"
    assert response.json()["issue"][0]["diagnostics"] == "Referral id ref-7 is already in use"
