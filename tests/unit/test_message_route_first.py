"""A hospital's message over REST (``POST /fhir/$process-message``, the referral service's
busiest route) is matched first among the service's routes: each request was matched against
every route before it twice, by the router and by the tracing middleware naming the request's
span (63 route matches per message; the route was the 36th). No route before it matched its
path, so the order answers no request differently."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import HTTPException
from fastapi.routing import _EffectiveRouteContext, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Match

from services.referral.bootstrap import create_app
from shared.runtime import get_runtime


async def _refused() -> None:
    raise HTTPException(status_code=401)  # routed, then answered before the use case


def test_a_hospitals_message_is_matched_by_the_first_routes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = create_app()
    app.dependency_overrides[get_runtime] = _refused
    matched: list[str] = []
    # The routes the service's routers bring, as FastAPI and the tracing middleware match them.
    original = _EffectiveRouteContext.matches

    def counting(self: Any, scope: Any) -> Any:
        matched.append(str(getattr(self, "path", "")))
        return original(self, scope)

    monkeypatch.setattr(_EffectiveRouteContext, "matches", counting)
    response = TestClient(app).post("/fhir/$process-message", content=b"{}")
    assert response.status_code == 401
    assert len(matched) <= 11  # was 63: those of health and metrics, then ours
    assert matched[4] == "/fhir/$process-message"  # after /health/live, /health, ..., /metrics


def test_no_other_route_takes_a_message() -> None:
    """The answer to every request is the same as with the route where it was: no other route
    matches ``POST /fhir/$process-message`` in full, and for any other method a route that
    matches in full is chosen over ours (which matches the path only) wherever either stands."""
    app = create_app()
    scope: dict[str, Any] = {
        "type": "http",
        "path": "/fhir/$process-message",
        "method": "POST",
        "root_path": "",
        "headers": [],
        "query_string": b"",
        "app": app,
    }
    full = [
        str(getattr(context, "path", ""))
        for context in iter_route_contexts(app.routes)
        if context.matches(scope)[0] is Match.FULL
    ]
    assert full == ["/fhir/$process-message"]
