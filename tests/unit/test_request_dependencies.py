"""A hospital's message over HTTP is not handed to worker threads on its way in.

FastAPI runs a dependency written as a plain ``def`` on a worker thread for every request. The
intake's dependencies only read what the app holds (its runtime, its container, the caller's
key), so they are ``async def``: before, four thread hand-offs per referral. A message of the
usual size is parsed on the event loop too; only a large one is handed to a worker thread.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from bench.health_under_input import largest_accepted
from services.referral.bootstrap import create_app as referral_app
from services.referral.entrypoints import messaging_api
from services.telemedicine.bootstrap import create_app as telemedicine_app
from tests.support import referral_app_refusing_after_the_parse, referral_bundle


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)  # an included router, as it is
        if included is not None:
            yield from _routes(included.routes)


def _route(app: Any, path: str, method: str) -> APIRoute:
    return next(
        route
        for route in _routes(app.routes)
        if route.path == path and method in (route.methods or ())
    )


@pytest.mark.parametrize(
    ("make_app", "path"),
    [
        (referral_app, "/fhir/$process-message"),
        (telemedicine_app, "/fhir/$process-message"),
    ],
)
def test_the_intakes_dependencies_run_on_the_event_loop(
    make_app: Callable[[], Any], path: str
) -> None:
    route = _route(make_app(), path, "POST")
    on_threads = [
        call.__qualname__
        for call in _calls(route.dependant)
        if not inspect.iscoroutinefunction(call)
    ]
    assert route.dependant.dependencies, "the route reads its runtime and caller"
    assert on_threads == []


def _thread_hand_offs(monkeypatch: pytest.MonkeyPatch, body: bytes) -> list[str]:
    """The worker-thread hand-offs of one message posted over REST (refused after its parse)."""
    handed: list[str] = []
    original = asyncio.to_thread

    async def counting(function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        handed.append(function.__qualname__)
        return await original(function, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", counting)
    app = referral_app_refusing_after_the_parse()
    response = TestClient(app).post(
        "/fhir/$process-message",
        content=body,
        headers={"Content-Type": "application/fhir+json"},
    )
    assert response.status_code == 403, response.text
    assert response.json()["issue"][0]["expression"] == ["MessageHeader.sender"]
    return handed


def test_a_referral_of_the_usual_size_is_parsed_on_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Handing a 4 KB message to a worker thread and back cost more than a tenth of its parse;
    before, every message was (1 hand-off per message, now 0)."""
    body = json.dumps(referral_bundle(teleconsult=True)[0]).encode()
    assert len(body) <= messaging_api.PARSED_ON_THE_LOOP_BYTES
    assert _thread_hand_offs(monkeypatch, body) == []


def test_the_largest_accepted_message_is_parsed_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tens of milliseconds of parsing: /health and the consumers keep being served meanwhile."""
    assert _thread_hand_offs(monkeypatch, largest_accepted()) == ["_parse_and_digest"]
