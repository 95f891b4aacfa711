"""OperationOutcome: how every FHIR interface of the project says what went wrong."""

from __future__ import annotations

import re
from typing import Any, Literal

from shared.fhir.models import OperationOutcome

Severity = Literal["fatal", "error", "warning", "information"]
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def operation_outcome(
    diagnostics: str,
    *,
    code: str = "invalid",
    severity: Severity = "error",
    expression: str | None = None,
) -> dict[str, Any]:
    """An OperationOutcome as JSON, validated against the R4B model.

    Control characters are dropped from the texts (they may quote what a caller sent, and FHIR
    strings cannot hold them): saying what was wrong must never fail itself.
    """
    diagnostics = _CONTROL.sub("", diagnostics).strip() or "Invalid request"
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    expression = _CONTROL.sub("", expression or "").strip()
    if expression:
        issue["expression"] = [expression]
    outcome = OperationOutcome.model_validate(
        {"resourceType": "OperationOutcome", "issue": [issue]}
    )
    return outcome.model_dump(mode="json", exclude_none=True)
