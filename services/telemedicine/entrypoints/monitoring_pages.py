"""The nurses' home-isolation pages in the clinicians' web app, under /app/monitoring/ (behind
the proxy's login, as the consult pages): the board of the hospital's patients sorted by risk
(red, yellow, missed check-ins, green), a patient's episode (check-ins, the flag's audit, the
lowering form), and the enrolment form.

A person sees only their own hospital's patients: the board's query names the hospital, and an
episode of another hospital is 404. Forms post with the session cookie and its synchronizer token,
as the consult pages do."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from services.telemedicine.adapters import monitoring_repository as repository
from services.telemedicine.adapters.monitoring_input import EnrolmentIn
from services.telemedicine.adapters.monitoring_wording import monitoring_words
from services.telemedicine.domain.episode import FinishReason
from services.telemedicine.domain.monitoring import Level, risk_rank
from services.telemedicine.entrypoints.deps import MonitoringDep, PagesDep
from services.telemedicine.service import monitoring
from shared.errors import Forbidden, InvalidInput
from shared.province_time import PROVINCE_ZONE
from shared.runtime import RuntimeDep
from shared.web_identity import HospitalPerson, HospitalPersonDep

router = APIRouter(prefix="/app/monitoring", include_in_schema=False)
# Who watches patients at home: nurses (and the doctors beside them).
CARERS = frozenset({"nurse", "doctor"})


@router.get("/", response_class=HTMLResponse)
async def board(
    request: Request, runtime: RuntimeDep, pages: PagesDep, person: HospitalPersonDep
) -> Response:
    now = datetime.now(UTC)
    async with runtime.pool.acquire() as connection:
        episodes = await repository.episodes_of_hospital(connection, hospital=person.hospital_id)
    episodes.sort(key=lambda e: (risk_rank(e.level, missed=e.missed(now)), e.next_check_in, e.id))
    return pages.TemplateResponse(
        request,
        "monitoring_board.html",
        {
            **_words(person),
            "rows": [(e, e.missed(now)) for e in episodes],
            "can_enrol": person.role in CARERS,
        },
    )


@router.get("/enrol", response_class=HTMLResponse)
async def enrol_form(
    request: Request, pages: PagesDep, context: MonitoringDep, person: HospitalPersonDep
) -> Response:
    return _enrol_page(request, pages, person, context.default_consultant_hospital or "")


@router.post("/enrol", response_class=HTMLResponse)
async def enrol(
    request: Request,
    runtime: RuntimeDep,
    pages: PagesDep,
    context: MonitoringDep,
    person: HospitalPersonDep,
) -> Response:
    _must_care(person)
    form = await request.form()
    fields = {
        key: value
        for key in ("patient", "hospital_number", "consultant_hospital", "line_user", "phone")
        if (value := str(form.get(key, "")).strip())
    }
    try:
        enrolment = EnrolmentIn.model_validate(fields)
    except ValidationError as invalid:
        error = invalid.errors()[0]
        problem = f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
        return _enrol_page(
            request, pages, person, fields.get("consultant_hospital", ""), problem, status=422
        )
    async with runtime.pool.acquire() as connection, connection.transaction():
        episode = await monitoring.enrol(
            connection,
            enrolment=monitoring.Enrolment(
                hospital=person.hospital_id,
                **enrolment.model_dump(exclude={"care_team"}),
                care_team=(f"Practitioner/{person.user_id}",),
            ),
            context=context,
            now=datetime.now(UTC),
        )
    return RedirectResponse(f"/app/monitoring/{episode.id}", status_code=303)


@router.get("/{episode_id}", response_class=HTMLResponse)
async def episode_page(
    episode_id: str,
    request: Request,
    runtime: RuntimeDep,
    pages: PagesDep,
    context: MonitoringDep,
    person: HospitalPersonDep,
) -> Response:
    async with runtime.pool.acquire() as connection:
        history = await repository.episode_history(
            connection, episode_id=episode_id, party=person.hospital_id
        )
    if history is None or history.episode.hospital != person.hospital_id:
        raise monitoring.EpisodeNotFound(episode_id)
    episode, check_ins, changes = history.episode, history.check_ins, history.changes
    return pages.TemplateResponse(
        request,
        "monitoring_episode.html",
        {
            **_words(person),
            "episode": episode,
            "check_ins": check_ins,
            "changes": changes,
            "lower_to": [level.code for level in Level if level < episode.level],
            "can_lower": person.role in CARERS,
            "finish_reasons": [reason.value for reason in FinishReason],
            "link": context.check_in_url(episode.id),
        },
    )


@router.post("/{episode_id}/flag", response_class=HTMLResponse)
async def lower_flag(
    episode_id: str,
    request: Request,
    runtime: RuntimeDep,
    context: MonitoringDep,
    person: HospitalPersonDep,
) -> Response:
    _must_care(person)
    form = await request.form()
    async with runtime.pool.acquire() as connection, connection.transaction():
        await monitoring.lower_flag(
            connection,
            episode_id=episode_id,
            hospital=person.hospital_id,
            to=Level.of(str(form.get("level", ""))),
            by=f"Practitioner/{person.user_id}",
            reason=str(form.get("reason", ""))[:200],
            context=context,
            now=datetime.now(UTC),
        )
    return RedirectResponse(f"/app/monitoring/{episode_id}", status_code=303)


@router.post("/{episode_id}/finish", response_class=HTMLResponse)
async def finish_episode(
    episode_id: str, request: Request, runtime: RuntimeDep, person: HospitalPersonDep
) -> Response:
    """A nurse or doctor of the managing hospital ends the episode, choosing why."""
    _must_care(person)
    form = await request.form()
    if form.get("confirm") != "yes":  # the page's checkbox: one tap never ends monitoring
        raise InvalidInput("Confirm that the patient gets no more reminders", expression="confirm")
    async with runtime.pool.acquire() as connection, connection.transaction():
        await monitoring.finish_episode(
            connection,
            episode_id=episode_id,
            hospital=person.hospital_id,
            reason=FinishReason.of(str(form.get("reason", ""))),
            by=f"Practitioner/{person.user_id}",
            now=datetime.now(UTC),
        )
    return RedirectResponse(f"/app/monitoring/{episode_id}", status_code=303)


def _must_care(person: HospitalPerson) -> None:
    if person.role not in CARERS:
        raise Forbidden(
            "Only the hospital's nurses and doctors enrol patients, lower flags and end monitoring"
        )


def _enrol_page(
    request: Request,
    pages: Any,
    person: HospitalPerson,
    consultant_hospital: str,
    problem: str | None = None,
    *,
    status: int = 200,
) -> Response:
    response: Response = pages.TemplateResponse(
        request,
        "monitoring_enrol.html",
        {**_words(person), "consultant_hospital": consultant_hospital, "problem": problem},
        status_code=status,
    )
    return response


def _words(person: HospitalPerson) -> dict[str, Any]:
    return {
        "w": monitoring_words(person.language),
        "language": person.language,
        "zone": PROVINCE_ZONE,
        "csrf_token": person.csrf_token,
    }
