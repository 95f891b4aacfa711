"""A hospital's message over HTTP is not handed to worker threads on its way in.

FastAPI runs a dependency written as a plain ``def`` on a worker thread for every request. The
intake's dependencies only read what the app holds (its runtime, its container, the caller's
key), so they are ``async def``: before, four thread hand-offs per referral.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from services.referral.bootstrap import create_app as referral_app
from services.telemedicine.bootstrap import create_app as telemedicine_app


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
