"""Signing in and out, the home redirect and the person's own settings (language, era).

``GET /app/login`` shows the form; ``POST /app/login`` signs in (rate-limited: 429 with a clear
message) and goes on to ``next`` (a path of the web app only); ``POST /app/logout`` ends the
session; ``GET /app/`` sends a person to their home page (by role and hospital).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Match

from services.referral.adapters import accounts_repository
from services.referral.domain.accounts import Language, home_path, safe_next
from services.referral.entrypoints.deps import (
    LOGIN_PATH,
    ActionDep,
    PersonDep,
    ReferralContainerDep,
    clear_session_cookie,
    refuse_cross_site,
    render,
    set_session_cookie,
)
from services.referral.service import sign_in
from shared.runtime import RuntimeDep

router = APIRouter(prefix="/app", default_response_class=HTMLResponse)


@router.get("/login")
async def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return render(request, "app/login.html", person=None, next=safe_next(next), failed=None)


@router.post("/login")
async def login(
    request: Request,
    runtime: RuntimeDep,
    container: ReferralContainerDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    next: Annotated[str | None, Form(max_length=2048)] = None,
) -> Response:
    refuse_cross_site(request)
    client = request.client.host if request.client else "unknown"
    destination = safe_next(next)
    try:
        async with runtime.pool.acquire() as connection:
            session = await sign_in.sign_in(
                connection,
                username=username,
                password=password,
                client_address=client,
                now=datetime.now(UTC),
                rules=container.sign_in_rules,
            )
    except sign_in.TooManyFailures as refused:
        return render(
            request,
            "app/login.html",
            person=None,
            status_code=429,
            headers={"Retry-After": str(refused.retry_after_s)},
            next=destination,
            failed="too-many",
            retry_after_min=refused.retry_after_s // 60,
        )
    except sign_in.SignInRefused:
        return render(
            request,
            "app/login.html",
            person=None,
            status_code=401,
            next=destination,
            failed="wrong",
        )
    response = RedirectResponse(destination, status_code=303)
    set_session_cookie(response, session.session_id, session.expires_at)
    return response


@router.post("/logout")
async def logout(runtime: RuntimeDep, person: ActionDep) -> Response:
    async with runtime.pool.acquire() as connection, connection.transaction():
        await sign_in.sign_out(connection, person=person)
    response = RedirectResponse(LOGIN_PATH, status_code=303)
    clear_session_cookie(response)
    return response


@router.get("/")
async def home(request: Request, person: PersonDep) -> Response:
    target = home_path(person)
    # Until the page a role lands on exists in this app, the home page lists what there is.
    if _app_serves(request, target):
        return RedirectResponse(target, status_code=303)
    return render(request, "app/home.html", person=person)


def _app_serves(request: Request, path: str) -> bool:
    """Whether a GET of ``path`` reaches a route of this app (included routers stay nested in
    FastAPI's route list, so this asks each route as the router itself would)."""
    scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "path_params": {}}
    return any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes)


@router.get("/settings")
async def settings_page(request: Request, person: PersonDep, saved: bool = False) -> HTMLResponse:
    return render(request, "app/settings.html", person=person, saved=saved)


@router.post("/settings")
async def save_settings(
    request: Request,
    runtime: RuntimeDep,
    person: ActionDep,
    language: Annotated[Language, Form()],
    buddhist_era: Annotated[bool, Form()] = False,
) -> Response:
    async with runtime.pool.acquire() as connection:
        await accounts_repository.set_preferences(
            connection, user_id=person.user_id, language=language, buddhist_era=buddhist_era
        )
    return RedirectResponse("/app/settings?saved=true", status_code=303)
