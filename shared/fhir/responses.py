"""Response messages: how a consumer answers a hospital system's message (FHIR messaging).

``MessageHeader.response.identifier`` is the request's MessageHeader.id; the code is ``ok``,
``transient-error`` or ``fatal-error`` (http://hl7.org/fhir/response-code); errors carry an
OperationOutcome saying what was wrong.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Literal

from shared.fhir.envelope import BuiltResource, FhirMessage, ResourceJson, build_message
from shared.fhir.outcome import operation_outcome

ResponseCode = Literal["ok", "transient-error", "fatal-error"]


def response_message(
    request: FhirMessage,
    *,
    code: ResponseCode,
    responder: str,
    source_endpoint: str,
    focus: Sequence[BuiltResource] = (),
    diagnostics: str | None = None,
    issue_code: str = "processing",
    expression: str | None = None,
    destination: str | None = None,
) -> FhirMessage:
    """The answer to ``request``, addressed to its sender (or to ``destination``, a hospital
    that sent it in another's name)."""
    details: ResourceJson | None = None
    if diagnostics is not None:
        outcome = operation_outcome(
            diagnostics,
            code=issue_code,
            severity="error" if code != "ok" else "information",
            expression=expression,
        )
        details = {**outcome, "id": str(uuid.uuid4())}
    return build_message(
        event=request.event,  # a response carries the event it answers
        sender=responder,
        destinations=[destination or request.sender],
        focus=focus,
        source_endpoint=source_endpoint,
        response_to=(request.message_id, code),
        response_details=details,
    )
