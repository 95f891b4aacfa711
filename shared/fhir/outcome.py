"""OperationOutcome: how every FHIR interface of the project says what went wrong."""

from __future__ import annotations

from typing import Any, Literal

from shared.fhir.models import OperationOutcome

Severity = Literal["fatal", "error", "warning", "information"]


def operation_outcome(
    diagnostics: str,
    *,
    code: str = "invalid",
    severity: Severity = "error",
    expression: str | None = None,
) -> dict[str, Any]:
    """An OperationOutcome as JSON, validated against the R4B model."""
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    outcome = OperationOutcome.model_validate(
        {"resourceType": "OperationOutcome", "issue": [issue]}
    )
    return outcome.model_dump(mode="json", exclude_none=True)
