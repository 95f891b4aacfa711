"""The patient's check-in form, at /check-in/<signed token>: a phone page in the patient's
language (Thai by default) that needs no login: the link itself, signed and expiring, is the
key, and it opens only that patient's check-in (the token names the episode; nothing else can
be read or written through it). What it shows back is the minimum: recorded, measure again, or
that a nurse will call."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from services.telemedicine.adapters import monitoring_repository as repository
from services.telemedicine.adapters.monitoring_wording import monitoring_words
from services.telemedicine.domain.episode import Episode
from services.telemedicine.domain.monitoring import CheckIn, Level, Reading, Symptom, Vital
from services.telemedicine.entrypoints.deps import MonitoringDep, PagesDep
from services.telemedicine.service import monitoring
from services.telemedicine.service.monitoring_context import MonitoringContext
from shared.db.pool import Connection
from shared.errors import InvalidInput
from shared.runtime import RuntimeDep
from shared.signed_links import InvalidLink

router = APIRouter(prefix="/check-in", include_in_schema=False)
FROM_LINK = "link"
# Nobody types more than this into a reading (the value is checked for plausibility after).
_MAX_FIELD = 8


@router.get("/{token}", response_class=HTMLResponse)
async def check_in_form(
    token: str, request: Request, runtime: RuntimeDep, pages: PagesDep, context: MonitoringDep
) -> Response:
    async with runtime.pool.acquire() as connection:
        episode = await _episode(connection, token, context)
    if episode is None:
        return _invalid(request, pages)
    return _page(request, pages, episode, token=token)


@router.post("/{token}", response_class=HTMLResponse)
async def send_check_in(
    token: str, request: Request, runtime: RuntimeDep, pages: PagesDep, context: MonitoringDep
) -> Response:
    form = await request.form()
    async with runtime.pool.acquire() as connection, connection.transaction():
        episode = await _episode(connection, token, context, for_update=True)
        if episode is None:
            return _invalid(request, pages)
        try:
            check_in = _check_in(form)
        except InvalidInput:
            return _page(request, pages, episode, token=token, empty=True, status_code=422)
        outcome = await monitoring.take_check_in(
            connection,
            episode=episode,
            check_in=check_in,
            source=FROM_LINK,
            context=context,
            now=datetime.now(UTC),
        )
    return _page(
        request,
        pages,
        episode,
        token=token,
        recorded=True,
        ask_again=[r.vital.value for r in outcome.assessment.implausible],
        nurse_will_call=outcome.assessment.level is Level.RED,
    )


async def _episode(
    connection: Connection, token: str, context: MonitoringContext, *, for_update: bool = False
) -> Episode | None:
    try:
        episode_id = context.check_in_links.verify(token)
    except InvalidLink:
        return None
    episode = await repository.get_episode(connection, episode_id=episode_id, for_update=for_update)
    return episode if episode is not None and not episode.finished else None


def _check_in(form: FormData) -> CheckIn:
    readings = []
    for vital in Vital:
        raw = str(form.get(vital.value, "")).strip().replace(",", ".")[:_MAX_FIELD]
        if raw:
            try:
                readings.append(Reading(vital, float(raw)))
            except ValueError:
                raise InvalidInput(f"{vital.value} is not a number") from None
    symptoms = frozenset(Symptom(s) for s in form.getlist("symptom") if s in set(Symptom))
    return CheckIn(readings=tuple(readings), symptoms=symptoms)


def _page(
    request: Request,
    pages: Any,
    episode: Episode,
    *,
    token: str,
    status_code: int = 200,
    **shown: Any,
) -> Response:
    response: Response = pages.TemplateResponse(
        request,
        "check_in.html",
        {
            "w": monitoring_words(episode.language),
            "language": episode.language,
            "token": token,
            "vitals": [v.value for v in Vital],
            "symptoms": [s.value for s in Symptom],
            "recorded": False,
            "ask_again": [],
            "nurse_will_call": False,
            "empty": False,
            **shown,
        },
        status_code=status_code,
    )
    # The link is the key: never cached, never sent on as a referrer.
    response.headers["Cache-Control"] = "no-store"
    return response


def _invalid(request: Request, pages: Any) -> Response:
    response: Response = pages.TemplateResponse(
        request,
        "check_in_invalid.html",
        {"w": monitoring_words("th"), "language": "th"},
        status_code=404,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
