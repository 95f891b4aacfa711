"""HTTP edge shared by the services: FHIR JSON responses and OperationOutcome errors.

Domain errors (shared/errors.py) are answered here, once for every service: the HTTP status
follows the kind of refusal (``HTTP_STATUS_BY_ISSUE``), the OperationOutcome says why and where.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry import trace
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.errors import DomainError
from shared.fhir.envelope import InvalidMessage
from shared.fhir.models import FHIR_JSON
from shared.fhir.outcome import operation_outcome
from shared.infrastructure import INFRASTRUCTURE_ERRORS, RETRY_AFTER_S

log = logging.getLogger(__name__)

_ISSUE_CODE_BY_STATUS = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    413: "too-costly",
    431: "too-costly",
    415: "not-supported",
    422: "processing",
    503: "transient",
}


# The one mapping of a refusal to HTTP: by its kind (issue type). 422, not 400: the request is
# well-formed FHIR that the service cannot act on.
HTTP_STATUS_BY_ISSUE = {
    "invalid": 422,
    "not-supported": 422,
    "processing": 422,
    "forbidden": 403,
    "not-found": 404,
    "business-rule": 409,
    "duplicate": 409,
}


class FhirResponse(JSONResponse):
    media_type = FHIR_JSON


def refusal_status(error: DomainError) -> int:
    return HTTP_STATUS_BY_ISSUE.get(error.issue_code, 422)


def refusal_outcome(error: DomainError) -> dict[str, Any]:
    """The OperationOutcome that tells the sender why (and where) ``error`` refused it."""
    return operation_outcome(error.reason, code=error.issue_code, expression=error.expression)


def refusal_response(error: DomainError) -> FhirResponse:
    return FhirResponse(refusal_outcome(error), status_code=refusal_status(error))


def outcome_response(
    status_code: int, diagnostics: str, *, code: str | None = None, expression: str | None = None
) -> FhirResponse:
    return FhirResponse(
        operation_outcome(
            diagnostics,
            code=code or _ISSUE_CODE_BY_STATUS.get(status_code, "processing"),
            severity="error" if status_code < 500 else "fatal",
            expression=expression,
        ),
        status_code=status_code,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves as an OperationOutcome; internals never reach the client."""

    @app.exception_handler(InvalidMessage)
    async def invalid_message(_: Request, error: InvalidMessage) -> FhirResponse:
        return outcome_response(
            400, error.reason, code=error.issue_code, expression=error.expression
        )

    @app.exception_handler(DomainError)
    async def refused(_: Request, error: DomainError) -> FhirResponse:
        return refusal_response(error)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> FhirResponse:
        problems = [
            f"{'.'.join(str(p) for p in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        ]
        # The first offending field, without its place ("body", "query"): e.g. hospital_number.
        first = error.errors()[0]["loc"][1:] if error.errors() else ()
        return outcome_response(
            422,
            "; ".join(problems) or "Invalid request",
            code="invalid",
            expression=".".join(str(p) for p in first) or None,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> FhirResponse:
        response = outcome_response(error.status_code, str(error.detail))
        response.headers.update(error.headers or {})
        return response

    async def unavailable(_: Request, error: Exception) -> FhirResponse:
        # Not the sender's fault and not a bug: the same request will work once we are back.
        log.warning("service unavailable: %s", type(error).__name__)
        response = outcome_response(
            503,
            "The service cannot reach its database or message broker right now. Send the "
            f"same request again in {RETRY_AFTER_S} s (a message sent twice is applied once).",
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response

    for infrastructure_error in INFRASTRUCTURE_ERRORS:
        app.add_exception_handler(infrastructure_error, unavailable)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, error: Exception) -> FhirResponse:
        log.exception("unhandled error")
        trace_id = trace.get_current_span().get_span_context().trace_id
        return outcome_response(
            500,
            f"Internal error; operators can find it under trace id {trace_id:032x}",
            code="exception",
        )


async def read_json_body(request: Request) -> Any:
    """The raw body, so the envelope parser can say precisely what is wrong with it."""
    return await request.body()
