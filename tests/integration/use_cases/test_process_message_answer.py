"""A hospital's referral over HTTP (POST /fhir/$process-message), the route itself on the real
PostgreSQL: its answer, the response message the network built, is written as it was built
(orjson), not dumped again through the standard library's encoder."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.requests import Request

from services.referral.adapters import fhir_mapping
from services.referral.entrypoints.messaging_api import process_message
from shared.db.pool import Connection
from shared.fhir.models import FHIR_JSON
from shared.settings import PlatformSettings
from tests.integration.use_cases.support import CONTEXT, OneConnectionPool, referral_request


def _post(body: bytes) -> Request:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/fhir/$process-message",
        "headers": [(b"content-type", FHIR_JSON.encode())],
        "query_string": b"",
    }
    return Request(scope, receive)


async def test_the_answer_to_a_referral_is_written_as_built_not_dumped_again(
    connection: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = referral_request()
    body = fhir_mapping.referral_requested_message(
        request, source_endpoint=CONTEXT.source_endpoint
    ).to_json()
    runtime = SimpleNamespace(settings=PlatformSettings(), pool=OneConnectionPool(connection))
    dumped: list[str] = []
    dumps = json.dumps

    def counted_dumps(value: Any, *args: Any, **kwargs: Any) -> str:
        dumped.append(value.get("resourceType", "dict") if isinstance(value, dict) else "other")
        return dumps(value, *args, **kwargs)

    monkeypatch.setattr(json, "dumps", counted_dumps)

    response = await process_message(
        _post(body),
        runtime,  # type: ignore[arg-type]
        CONTEXT,
        request.requester_org,
    )

    # Was 1: the response message, a Bundle, written by JSONResponse's json.dumps.
    assert "Bundle" not in dumped, dumped
    assert response.status_code == 200
    assert response.media_type == FHIR_JSON
    answer = json.loads(bytes(response.body))
    assert answer["resourceType"] == "Bundle"
    header = answer["entry"][0]["resource"]
    assert header["response"]["code"] == "ok"
    task = answer["entry"][1]["resource"]
    assert (task["resourceType"], task["id"]) == ("Task", request.referral_id)
