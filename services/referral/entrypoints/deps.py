"""What the referral service's routes depend on: typed ``Annotated`` dependencies and the checks
every route shares. Route modules import this module, never one another.

For the web app (pages under /app/): ``PersonDep`` (the signed-in person of a page),
``ActionDep`` (the same, with the CSRF token of a state-changing request checked), ``render`` (a
page in the person's language) and the refusals as pages (``install_app_error_handlers``).

The session cookie holds only a random session id (``HttpOnly``: no script reads it;
``Secure``: never sent over plain HTTP except to loopback, which browsers treat as secure;
``SameSite=Lax``: not sent with another site's form posts). Everything else lives in the
``app_session`` row, so ending a session is deleting its row. Every state-changing request also
carries the session's synchronizer token: the form field ``csrf_token`` of a plain form, or the
``X-CSRF-Token`` header that htmx sends (the layout sets ``hx-headers``); without it, 403.
"""

from __future__ import annotations

import inspect
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.referral.adapters.app_templates import DEFAULT_LANGUAGE
from services.referral.adapters.fhir_search import BadSearch
from services.referral.container import ConsoleSettings, ReferralContainer
from services.referral.domain.accounts import LANGUAGES, Language, Role, SignedInPerson
from services.referral.domain.errors import NotAParty
from services.referral.domain.model import Referral
from services.referral.service import sign_in
from services.referral.service.context import ReferralContext
from services.referral.workers.page_feed import PageFeed
from shared.runtime import RuntimeDep, container_dependency
from shared.web import FhirResponse, outcome_response
from shared.web_identity import carries_synchronizer_token

ReferralContainerDep = Annotated[
    ReferralContainer, Depends(container_dependency(ReferralContainer))
]


async def get_context(container: ReferralContainerDep) -> ReferralContext:
    return container.context


ContextDep = Annotated[ReferralContext, Depends(get_context)]


def get_pages(container: ReferralContainerDep) -> Jinja2Templates:
    return container.pages


PagesDep = Annotated[Jinja2Templates, Depends(get_pages)]


def fhir_base_url(context: ReferralContext) -> str:
    """The FHIR base URL the network publishes (FT_REFERRAL_PUBLIC_URL + /fhir)."""
    return context.source_endpoint.rstrip("/")


def ensure_party(referral: Referral, caller: str) -> None:
    """A hospital sees only the referrals it sends or receives."""
    if caller not in (referral.requester_org, referral.owner_org):
        raise NotAParty("This referral is between other hospitals")


def refused_search(bad: BadSearch) -> FhirResponse:
    """A search the server will not run: 400 with the OperationOutcome naming the parameter."""
    return outcome_response(400, bad.reason, code=bad.issue_code, expression=bad.expression)


# The web app ---------------------------------------------------------------------------------

APP_PREFIX = "/app/"
LOGIN_PATH = "/app/login"
SESSION_COOKIE = "ft_session"


class SignInRequired(Exception):
    """No live session: the page answers with the sign-in page, then comes back to ``next``."""

    def __init__(self, next_path: str) -> None:
        super().__init__("sign-in required")
        self.next_path = next_path


class CsrfRefused(Exception):
    """A state-changing request without this session's synchronizer token, or one a browser
    says another site started."""


def refuse_cross_site(request: Request) -> None:
    """Browsers say where a request comes from (``Sec-Fetch-Site``): another site's form never
    acts here, not even the sign-in form (which has no session, hence no token, yet)."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise CsrfRefused


def set_session_cookie(response: Response, session_id: str, expires_at: datetime) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        expires=expires_at,
        path="/",
        secure=True,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="lax")


def _asked_path(request: Request) -> str:
    query = request.url.query
    return f"{request.url.path}?{query}" if query else request.url.path


async def signed_in_person(request: Request, runtime: RuntimeDep) -> SignedInPerson:
    """The person of the request's live session, or ``SignInRequired``."""
    session_id = request.cookies.get(SESSION_COOKIE)
    person = None
    if session_id:
        async with runtime.pool.acquire() as connection:
            person = await sign_in.person_of_session(connection, session_id)
    if person is None:
        raise SignInRequired(_asked_path(request))
    # Error pages of this request speak the person's language.
    request.state.person = person
    return person


async def acting_person(
    request: Request, person: Annotated[SignedInPerson, Depends(signed_in_person)]
) -> SignedInPerson:
    """The signed-in person of a state-changing request, its synchronizer token checked."""
    refuse_cross_site(request)
    if not await carries_synchronizer_token(request, person.csrf_token):
        raise CsrfRefused
    return person


# A page of the web app: the signed-in person, or a 303 to /app/login?next=<this page>.
PersonDep = Annotated[SignedInPerson, Depends(signed_in_person)]
# A state-changing request of the web app (POST): the signed-in person, with the session's
# synchronizer token checked (form field ``csrf_token`` or header ``X-CSRF-Token``); 403 if not.
ActionDep = Annotated[SignedInPerson, Depends(acting_person)]


def hospital_scope(person: PersonDep) -> str | None:
    """Whose referrals the person sees in province-wide views (the live stream, the KPIs): their
    hospital's, or every hospital's (None) for the network's operator."""
    if person.hospital_id is not None:
        return person.hospital_id
    if person.role is Role.OPERATOR:
        return None
    raise HTTPException(403, "This account belongs to no hospital")


HospitalScopeDep = Annotated[str | None, Depends(hospital_scope)]


def operator_person(person: PersonDep) -> SignedInPerson:
    """The operators' console is for the network's operators only: anyone else gets 403."""
    if person.role is not Role.OPERATOR:
        raise HTTPException(403, "The console is for the network's operators")
    return person


def operator_action(person: ActionDep) -> SignedInPerson:
    """A state-changing request of the console (a replay): an operator, CSRF token checked."""
    return operator_person(person)


# A page of the operators' console, and a change made from it.
OperatorPersonDep = Annotated[SignedInPerson, Depends(operator_person)]
OperatorActionDep = Annotated[SignedInPerson, Depends(operator_action)]


def get_console_settings(container: ReferralContainerDep) -> ConsoleSettings:
    return container.console


ConsoleSettingsDep = Annotated[ConsoleSettings, Depends(get_console_settings)]


def get_page_feed(container: ReferralContainerDep) -> PageFeed:
    return container.page_feed


# Wakes the open pages' live streams when the referral timeline has something new.
PageFeedDep = Annotated[PageFeed, Depends(get_page_feed)]


def get_page_heartbeat_s(container: ReferralContainerDep) -> float:
    return container.page_heartbeat_s


# Seconds between an idle page stream's heartbeats (each checks the person's session).
PageHeartbeatDep = Annotated[float, Depends(get_page_heartbeat_s)]


def page_language(request: Request, person: SignedInPerson | None) -> Language:
    """The person's setting; before signing in, ``?lang=en`` on the sign-in page."""
    if person is not None:
        return person.language
    asked = request.query_params.get("lang")
    return next((language for language in LANGUAGES if language == asked), DEFAULT_LANGUAGE)


def render(
    request: Request,
    template: str,
    *,
    person: SignedInPerson | None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page of the web app in the person's language. Every template receives ``person``
    (None on the sign-in page), ``language`` and ``csrf_token`` for its forms."""
    container: ReferralContainer = request.app.state.container
    response: HTMLResponse = container.pages.TemplateResponse(
        request,
        template,
        {
            "person": person,
            "language": page_language(request, person),
            "csrf_token": person.csrf_token if person else "",
            **context,
        },
        status_code=status_code,
        headers=headers,
    )
    return response


def sign_in_redirect(request: Request, next_path: str) -> Response:
    location = f"{LOGIN_PATH}?{urlencode({'next': next_path})}"
    if request.headers.get("HX-Request"):
        # htmx would swap the redirect's page into the element; HX-Redirect loads it whole.
        return Response(status_code=401, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def install_app_error_handlers(app: FastAPI) -> None:
    """Refusals under /app/ answer with a page; everything else keeps the FHIR handlers."""
    fhir_http_error = app.exception_handlers[StarletteHTTPException]

    async def sign_in_required(request: Request, error: Exception) -> Response:
        if not isinstance(error, SignInRequired):
            raise error
        return sign_in_redirect(request, error.next_path)

    async def csrf_refused(request: Request, _: Exception) -> Response:
        return render(
            request,
            "app/refused.html",
            person=getattr(request.state, "person", None),
            status_code=403,
            reason="csrf",
        )

    async def http_error(request: Request, error: Exception) -> Response:
        if not isinstance(error, StarletteHTTPException):
            raise error
        if not request.url.path.startswith(APP_PREFIX):
            answer = fhir_http_error(request, error)
            return await answer if inspect.isawaitable(answer) else answer
        return render(
            request,
            "app/refused.html",
            person=getattr(request.state, "person", None),
            status_code=error.status_code,
            headers=dict(error.headers or {}),
            reason=str(error.status_code),
        )

    app.add_exception_handler(SignInRequired, sign_in_required)
    app.add_exception_handler(CsrfRefused, csrf_refused)
    app.add_exception_handler(StarletteHTTPException, http_error)
