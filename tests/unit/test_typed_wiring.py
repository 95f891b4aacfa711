"""Typed wiring: the container a service's wiring returns is what its routes receive, through an
``Annotated`` dependency; a route mounted in the wrong service's app fails loudly instead of
reading a wrong collaborator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, cast

import asyncpg
import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient

from services.referral.container import ReferralContainer
from services.referral.entrypoints.deps import ContextDep
from services.referral.service.context import ReferralContext
from services.referral.workers.page_feed import PageFeed
from shared.pages import page_templates
from shared.runtime import container_dependency
from tests.support import ROOT


@dataclass(frozen=True)
class _OtherContainer:
    name: str


OtherDep = Annotated[_OtherContainer, Depends(container_dependency(_OtherContainer))]


def _app_holding(container: object) -> TestClient:
    router = APIRouter()

    @router.get("/source")
    async def source(context: ContextDep) -> dict[str, str]:
        return {"source": context.source_endpoint}

    app = FastAPI()
    app.state.container = container
    app.include_router(router)
    return TestClient(app, raise_server_exceptions=True)


def test_a_route_receives_the_context_from_the_container_the_wiring_returned() -> None:
    context = ReferralContext(source_endpoint="https://ft.example/fhir", public_url="https://ft")
    pages = page_templates(ROOT / "services" / "referral" / "templates")
    # The feed's worker is never started here: it needs no database.
    feed = PageFeed(pool=cast(asyncpg.Pool, object()), schema="referral")
    client = _app_holding(ReferralContainer(context=context, pages=pages, page_feed=feed))
    assert client.get("/source").json() == {"source": "https://ft.example/fhir"}


def test_a_route_in_an_app_wired_with_another_container_fails_naming_both() -> None:
    client = _app_holding(_OtherContainer(name="notifier"))
    with pytest.raises(TypeError, match=r"_OtherContainer.*ReferralContainer"):
        client.get("/source")


def test_the_dependency_is_typed_for_the_container_it_was_made_for() -> None:
    app = FastAPI()
    app.state.container = _OtherContainer(name="telemedicine")

    @app.get("/name")
    async def name(other: OtherDep) -> dict[str, str]:
        return {"name": other.name}

    assert TestClient(app).get("/name").json() == {"name": "telemedicine"}
