"""The clinicians' referral pages: the new-referral form (phone-first, with the routing advice
before sending) and the referral page (clock, windows, milestone buttons, metrics, timeline),
whose live part is one fragment htmx re-fetches on the page's live events.

Entry points only translate: the form goes through the intake use case the FHIR path uses, in
the name of the person's own hospital; a milestone through the clinical-update use case; the
page reads through service/referral_page.py, scoped to the person's hospital in the query."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.referral.adapters import page_events, repository
from services.referral.adapters.referral_form_input import (
    FormProblems,
    read_referral_form,
)
from services.referral.domain.accounts import Role, SignedInPerson
from services.referral.domain.assessment import NIHSS_ITEMS, Anticoagulant, CtResult, FastSign
from services.referral.domain.commands import ClinicalTime
from services.referral.domain.errors import ReferralNotFound
from services.referral.entrypoints.deps import (
    ActionDep,
    ContextDep,
    PersonDep,
    page_language,
    render,
)
from services.referral.service import intake, milestone_entry, referral_page, route_preview
from services.referral.service.referral_view import referral_view
from shared.errors import DomainError
from shared.province_time import PROVINCE_ZONE
from shared.runtime import RuntimeDep
from shared.vocabulary.terms import Language

router = APIRouter()


def _who(person: SignedInPerson) -> str:
    """A person as the timeline names them, as they were named when they acted."""
    return f"{person.display_name} ({person.username})"


def _language(person: SignedInPerson) -> Language:
    return Language(person.language)


def _clinician(person: SignedInPerson) -> str:
    """The hospital a clinician acts for; 403 for anyone else (an operator, an admin)."""
    if not person.is_clinician or person.hospital_id is None:
        raise HTTPException(403, "Referrals are made and recorded by a hospital's clinicians")
    return person.hospital_id


async def _form_page(
    request: Request,
    runtime: RuntimeDep,
    person: SignedInPerson,
    *,
    values: dict[str, Any],
    problems: FormProblems | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    async with runtime.pool.acquire() as connection:
        hospitals = [
            h for h in await repository.directory(connection) if h.id != person.hospital_id
        ]
    return render(
        request,
        "app/referral_new.html",
        person=person,
        status_code=status_code,
        values=values,
        problems=problems or FormProblems(),
        hospitals=hospitals,
        nihss_items=NIHSS_ITEMS,
        fast_signs=list(FastSign),
        anticoagulant_choices=list(Anticoagulant),
        ct_choices=list(CtResult),
    )


def _form_values(form: Any) -> dict[str, Any]:
    return {key: form.getlist(key) for key in form}


@router.get("/app/referrals/new", response_class=HTMLResponse)
async def new_referral(request: Request, runtime: RuntimeDep, person: PersonDep) -> HTMLResponse:
    _clinician(person)
    now = datetime.now(PROVINCE_ZONE)
    values = {"request_id": [str(uuid.uuid4())], "lkw": [f"{now:%Y-%m-%dT%H:%M}"]}
    return await _form_page(request, runtime, person, values=values)


@router.post("/app/referrals/preview", response_class=HTMLResponse)
async def preview_route(
    request: Request, runtime: RuntimeDep, context: ContextDep, person: ActionDep
) -> HTMLResponse:
    """The recommended hospital and the routing engine's reasons for what the form says now;
    stores nothing (an htmx fragment)."""
    hospital = _clinician(person)
    form = await request.form()
    decision, problems = None, None
    try:
        referral = read_referral_form(
            _form_values(form),
            requester=hospital,
            person=_who(person),
            now=datetime.now(UTC),
            preview=True,
        )
        async with runtime.pool.acquire() as connection:
            decision = await route_preview.preview_route(
                connection, request=referral, context=context
            )
            names = {h.id: h for h in await repository.directory(connection)}
    except FormProblems as found:
        problems, names = found, {}
    thai = page_language(request, person) == "th"

    def name_of(hospital_id: str) -> str:
        entry = names.get(hospital_id)
        if entry is None:
            return hospital_id
        return (entry.name_th if thai else None) or entry.name

    return render(
        request,
        "app/referral_route.html",
        person=person,
        decision=decision,
        reasons=[reason.named(name_of) for reason in decision.reasons] if decision else [],
        problems=problems,
        hospitals=names,
    )


@router.post("/app/referrals", response_class=HTMLResponse)
async def send_referral(
    request: Request, runtime: RuntimeDep, context: ContextDep, person: ActionDep
) -> Response:
    """The same intake use case as a hospital system's FHIR message, in the name of the
    person's own hospital; bad input comes back on the form (422), never a 500."""
    hospital = _clinician(person)
    values = _form_values(await request.form())
    try:
        referral = read_referral_form(
            values, requester=hospital, person=_who(person), now=datetime.now(UTC)
        )
        async with runtime.pool.acquire() as connection, connection.transaction():
            referral_id = await intake.request_referral(
                connection, request=referral, context=context
            )
    except FormProblems as problems:
        return await _form_page(
            request, runtime, person, values=values, problems=problems, status_code=422
        )
    except DomainError as refused:
        not_sent = FormProblems({"": "The referral was not sent."}, detail=refused)
        return await _form_page(
            request, runtime, person, values=values, problems=not_sent, status_code=422
        )
    return RedirectResponse(f"/app/referrals/{referral_id}", status_code=303)


async def _reading(
    runtime: RuntimeDep, person: SignedInPerson, referral_id: str
) -> referral_page.ReferralReading:
    operator = person.role is Role.OPERATOR
    if not operator and person.hospital_id is None:
        raise HTTPException(404)
    try:
        async with runtime.pool.acquire() as connection:
            return await referral_page.read_referral(
                connection,
                referral_id=referral_id,
                reader_hospital=person.hospital_id,
                reader=f"User/{person.username}",
                operator=operator,
            )
    except ReferralNotFound:
        # The same answer as for a referral that does not exist: a third hospital learns nothing.
        raise HTTPException(404, "No such referral") from None


async def _referral_answer(
    request: Request,
    runtime: RuntimeDep,
    person: SignedInPerson,
    referral_id: str,
    *,
    template: str,
    problem: DomainError | str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The referral page (or its live part) as the person may see it now."""
    async with runtime.pool.acquire() as connection:
        # Read before the referral: the page's live stream starts there (static/app/live.js).
        feed_position = await page_events.latest_position(connection)
    reading = await _reading(runtime, person, referral_id)
    view = referral_view(reading, now=datetime.now(UTC), language=_language(person))
    return render(
        request,
        template,
        person=person,
        view=view,
        problem=problem,
        status_code=status_code,
        feed_position=feed_position,
    )


@router.get("/app/referrals/{referral_id}", response_class=HTMLResponse)
async def referral_page_view(
    referral_id: str, request: Request, runtime: RuntimeDep, person: PersonDep
) -> HTMLResponse:
    return await _referral_answer(
        request, runtime, person, referral_id, template="app/referral_page.html"
    )


@router.get("/app/referrals/{referral_id}/live", response_class=HTMLResponse)
async def referral_live(
    referral_id: str, request: Request, runtime: RuntimeDep, person: PersonDep
) -> HTMLResponse:
    """The page's live part (clock, windows, buttons, metrics, timeline), for htmx."""
    return await _referral_answer(
        request, runtime, person, referral_id, template="app/referral_live.html"
    )


def _moment(text: str) -> datetime | None:
    """A datetime-local value on the Bangkok clock (None when empty); ValueError if not one."""
    if not text.strip():
        return None
    moment = datetime.fromisoformat(text.strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=PROVINCE_ZONE)


@router.post("/app/referrals/{referral_id}/milestones", response_class=HTMLResponse)
async def record_milestone(
    referral_id: str,
    request: Request,
    runtime: RuntimeDep,
    context: ContextDep,
    person: ActionDep,
) -> Response:
    """A tap records the milestone now; with a time (and a reason, when it was set) it changes
    it. htmx gets the live fragment back; a plain form goes back to the page."""
    hospital = _clinician(person)
    form = await request.form()
    problem: DomainError | str | None = None
    try:
        kind = ClinicalTime(str(form.get("kind", "")))
    except ValueError:
        raise HTTPException(422, "Unknown milestone") from None
    try:
        occurred_at = _moment(str(form.get("at", "")))
        async with runtime.pool.acquire() as connection, connection.transaction():
            await milestone_entry.record_by_person(
                connection,
                referral_id=referral_id,
                kind=kind,
                hospital=hospital,
                person=_who(person),
                now=datetime.now(UTC),
                occurred_at=occurred_at,
                reason=str(form.get("reason", "")),
                context=context,
            )
    except ReferralNotFound:
        raise HTTPException(404, "No such referral") from None
    except ValueError:
        problem = "Enter a date and time."
    except DomainError as refused:
        problem = refused
    if request.headers.get("HX-Request"):
        # htmx swaps 2xx answers only: the problem is shown in the fragment.
        return await _referral_answer(
            request,
            runtime,
            person,
            referral_id,
            template="app/referral_live.html",
            problem=problem,
        )
    if problem is not None:
        return await _referral_answer(
            request,
            runtime,
            person,
            referral_id,
            template="app/referral_page.html",
            problem=problem,
            status_code=422,
        )
    return RedirectResponse(f"/app/referrals/{referral_id}", status_code=303)
