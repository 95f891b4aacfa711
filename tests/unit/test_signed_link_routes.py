"""A signed link's secret (a ``{token}`` path segment: the reader's key to a patient's page) is
kept out of request spans and of the reverse proxy's logs for every such route of every service,
found from the routes themselves: a new signed link cannot be left out of either."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import pytest
from fastapi import APIRouter, FastAPI
from starlette.routing import BaseRoute

from services.notifier.bootstrap import create_app as notifier_app
from services.referral.bootstrap import create_app as referral_app
from services.telemedicine.bootstrap import create_app as telemedicine_app
from shared.telemetry import signed_link_prefixes
from tests.support import ROOT

TEMPLATE = ROOT / "deploy" / "nginx" / "templates" / "fasttrack.conf.template"
# Path parameters that would hold a secret under another name than ``token``.
SECRET_SOUNDING = re.compile(r"\{(ticket|secret|signature|key|jwt|code|link)[^}]*\}")


@pytest.fixture(scope="module")
def apps() -> list[FastAPI]:
    return [referral_app(), telemedicine_app(), notifier_app()]


def _routes(routes: Sequence[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route of an app: FastAPI (0.163) keeps an included router as one route of its own
    that holds the router."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if isinstance(included, APIRouter):
            yield from _routes(included.routes)
        else:
            yield route


def _prefixes(apps: list[FastAPI]) -> list[str]:
    return [prefix for app in apps for prefix in signed_link_prefixes(_routes(app.routes))]


def test_the_prefixes_are_the_paths_before_a_token_segment() -> None:
    acknowledgements = APIRouter()
    check_ins = APIRouter(prefix="/check-in")

    @acknowledgements.get("/ack/{token}")
    @acknowledgements.post("/ack/{token}")
    async def acknowledge(token: str) -> None: ...

    @check_ins.get("/{token}/photo")
    async def photo(token: str) -> None: ...

    @check_ins.get("/help/{topic}")
    async def help_page(topic: str) -> None: ...

    routes = [*acknowledgements.routes, *check_ins.routes]
    assert signed_link_prefixes(routes) == ["/ack/", "/check-in/"]


def test_every_services_signed_links_are_found(apps: list[FastAPI]) -> None:
    # Today's two: the notifier's acknowledgement link and a patient's check-in form.
    assert sorted(_prefixes(apps)) == ["/ack/", "/check-in/"]


def test_no_route_carries_a_secret_under_another_name(apps: list[FastAPI]) -> None:
    paths = [getattr(route, "path", "") for app in apps for route in _routes(app.routes)]
    assert "/ack/{token}" in paths  # the walk reaches the included routers' routes
    assert [path for path in paths if SECRET_SOUNDING.search(path)] == []


def test_the_proxy_keeps_every_signed_link_out_of_its_logs(apps: list[FastAPI]) -> None:
    template = TEMPLATE.read_text(encoding="utf-8")
    (redacted,) = re.findall(r"\(\?<capability_prefix>/\(([^)]*)\)/\)", template)
    logged_without_secret = {f"/{name}/" for name in redacted.split("|")}
    for prefix in _prefixes(apps):
        assert prefix in logged_without_secret
        # nginx's error log quotes the request line whole: the location keeps none.
        location = template.split(f"location {prefix} {{", 1)[1].split("}", 1)[0]
        assert "error_log /dev/null;" in location
