"""The consult pages of the clinicians' web app, under /app/consults/ (the deployment's proxy
brings them under the web app's origin and vouches for the signed-in person with a signed
identity, shared/web_identity.py): the hospital's queue (consults to answer, consults asked)
and the consult page (its steps, the video room, the recommendation and its form).

A person sees only their own hospital's consults (the query itself: another's is 404). The
forms post with the web app's session cookie and the session's synchronizer token, which the
identity brings (shared/web_identity.py: a post without it is 403); a doctor of the consultant
hospital accepts, declines, starts the video and signs; the spoke's clinicians may cancel
before the video."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from services.telemedicine.adapters import question_store, recommendation_store, repository
from services.telemedicine.adapters.page_wording import words
from services.telemedicine.adapters.recommendation_input import (
    RecommendationIn,
    to_recommendation,
)
from services.telemedicine.domain.errors import ConsultNotFound, NotTheirStep
from services.telemedicine.domain.first_consult import ASKERS
from services.telemedicine.domain.model import Consult
from services.telemedicine.domain.recommendation import NIHSS_ITEMS
from services.telemedicine.domain.thrombolysis_checklist import CHECKLIST
from services.telemedicine.domain.video import JOINABLE, Participant
from services.telemedicine.entrypoints.deps import ContextDep, PagesDep, VideoTokensDep
from services.telemedicine.service import consult_answers, needle, recommendations
from shared.db.pool import Connection, one_moment
from shared.errors import DomainError
from shared.province_time import PROVINCE_ZONE
from shared.runtime import RuntimeDep
from shared.web_identity import HospitalPerson, HospitalPersonDep
from shared.workflow.consult_state import AWAITING_CONSULTANT, CONSULT_TERMINAL, ConsultStage

router = APIRouter(prefix="/app/consults", include_in_schema=False)
S = ConsultStage
DOCTOR = "doctor"
_SIGNABLE = frozenset({S.ACCEPTED, S.IN_VIDEO, S.RECOMMENDATION_PENDING, S.RECOMMENDED})
_CANCELLABLE = frozenset({S.REQUESTED, S.PAGING, S.DECLINED, S.ACCEPTED})


@router.get("/", response_class=HTMLResponse)
async def queue(
    request: Request, runtime: RuntimeDep, pages: PagesDep, person: HospitalPersonDep
) -> Response:
    """The hospital's consults: those it answers and has not finished, and those it asked."""
    async with runtime.pool.acquire() as connection:
        consults = await repository.consults_of_hospital(connection, hospital=person.hospital_id)
    hospital = person.hospital_id
    return pages.TemplateResponse(
        request,
        "queue.html",
        {
            **_words(person),
            "to_answer": [
                c
                for c in consults
                if c.consultant_org == hospital and c.stage not in CONSULT_TERMINAL
            ],
            "asked": [c for c in consults if c.requester_org == hospital],
            "can_ask": person.role in ASKERS,
        },
    )


@router.get("/{consult_id}", response_class=HTMLResponse)
async def consult_page(
    consult_id: str,
    request: Request,
    runtime: RuntimeDep,
    pages: PagesDep,
    person: HospitalPersonDep,
) -> Response:
    async with runtime.pool.acquire() as connection:
        return await _page(connection, request, pages, person, consult_id=consult_id)


@router.get("/{consult_id}/advice", response_class=HTMLResponse)
async def advice_part(
    consult_id: str,
    request: Request,
    runtime: RuntimeDep,
    pages: PagesDep,
    person: HospitalPersonDep,
) -> Response:
    """The page's recommendation part alone: the page re-reads it (static/consult.js), so the
    spoke sees the advice the moment it is signed."""
    async with runtime.pool.acquire() as connection, one_moment(connection):
        consult = await _consult(connection, consult_id, person)
        versions = await recommendation_store.versions(connection, consult_id=consult_id)
    response: Response = pages.TemplateResponse(
        request,
        "advice.html",
        {**_words(person), **_advice(consult, versions, person), "needle_confirmed": False},
        headers={"Cache-Control": "no-store"},
    )
    return response


@router.post("/{consult_id}/steps")
async def take_step(
    consult_id: str,
    request: Request,
    runtime: RuntimeDep,
    context: ContextDep,
    person: HospitalPersonDep,
) -> Response:
    """A button of the page: accept, decline (with a reason), start the video, cancel."""
    form = await request.form()
    stage = ConsultStage(str(form.get("stage", "")))
    reason = str(form.get("reason", "")).strip() or None
    async with runtime.pool.acquire() as connection, connection.transaction():
        consult = await _consult(connection, consult_id, person)
        if not _may(person, consult, stage):
            raise NotTheirStep(stage.value)
        await consult_answers.move(
            connection,
            consult_id=consult_id,
            party=person.hospital_id,
            stage=stage,
            reason=reason,
            by=f"Practitioner/{person.user_id}",
            context=context,
            now=datetime.now(UTC),
        )
    return RedirectResponse(f"/app/consults/{consult_id}", status_code=303)


@router.post("/{consult_id}/join")
async def join_video(
    consult_id: str, runtime: RuntimeDep, tokens: VideoTokensDep, person: HospitalPersonDep
) -> Response:
    """To the video room, with a join token of the person's own (never shown on a page)."""
    async with runtime.pool.acquire() as connection:
        consult = await _consult(connection, consult_id, person)
    if consult.stage not in JOINABLE:
        return RedirectResponse(f"/app/consults/{consult_id}", status_code=303)
    link = tokens.join(
        room=consult.room,
        participant=Participant(
            id=f"Practitioner/{person.user_id}",
            name=person.user_id,
            hospital=person.hospital_id,
            moderator=person.hospital_id == consult.consultant_org,
        ),
        now=datetime.now(UTC),
    )
    return RedirectResponse(link.url, status_code=303, headers={"Cache-Control": "no-store"})


@router.post("/{consult_id}/recommendations", response_class=HTMLResponse)
async def sign(
    consult_id: str,
    request: Request,
    runtime: RuntimeDep,
    context: ContextDep,
    pages: PagesDep,
    person: HospitalPersonDep,
) -> Response:
    """The recommendation form, signed by the doctor who sends it; a refusal shows the page
    again with the reason (409), nothing signed."""
    form = await request.form()
    now = datetime.now(UTC)
    async with runtime.pool.acquire() as connection:
        consult = await _consult(connection, consult_id, person)
        if person.role != DOCTOR:
            raise NotTheirStep(S.RECOMMENDED.value)
        try:
            body = RecommendationIn.model_validate(_form_recommendation(form, person))
            async with connection.transaction():
                await recommendations.sign(
                    connection,
                    consult_id=consult_id,
                    party=person.hospital_id,
                    write=lambda version: to_recommendation(
                        body,
                        formulary=context.formulary(consult.requester_org),
                        now=now,
                        version=version,
                    ),
                    context=context,
                    now=now,
                )
        except (DomainError, ValidationError) as refused:
            reason = refused.reason if isinstance(refused, DomainError) else _first(refused)
            return await _page(
                connection, request, pages, person, consult_id=consult_id, refusal=reason
            )
    return RedirectResponse(f"/app/consults/{consult_id}", status_code=303)


@router.post("/{consult_id}/needle")
async def confirm_needle(
    consult_id: str, runtime: RuntimeDep, context: ContextDep, person: HospitalPersonDep
) -> Response:
    """The spoke's clinician confirms the recommended thrombolysis was started, now: the
    referral records the needle in their name."""
    now = datetime.now(UTC)
    async with runtime.pool.acquire() as connection, connection.transaction():
        await needle.confirm_needle(
            connection,
            consult_id=consult_id,
            party=person.hospital_id,
            # The web app names the person on the referral's timeline from this id.
            person=f"app-user/{person.user_id}",
            at=now,
            context=context,
            now=now,
        )
    return RedirectResponse(f"/app/consults/{consult_id}?needle=confirmed", status_code=303)


def _words(person: HospitalPerson) -> dict[str, Any]:
    return {
        "w": words(person.language),
        "language": person.language,
        "zone": PROVINCE_ZONE,
        "csrf_token": person.csrf_token,
    }


def _advice(
    consult: Consult, versions: list[dict[str, Any]], person: HospitalPerson
) -> dict[str, Any]:
    """What the recommendation part shows: every signed version, and for the spoke the needle
    to confirm once the latest version advises giving thrombolysis."""
    return {
        "consult": consult,
        "versions": versions,
        "can_confirm_needle": person.hospital_id == consult.requester_org
        and consult.stage is S.RECOMMENDED
        and bool(versions)
        and versions[-1].get("decision") == "give",
    }


def _first(invalid: ValidationError) -> str:
    error = invalid.errors()[0]
    return f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"


def _may(person: HospitalPerson, consult: Consult, stage: ConsultStage) -> bool:
    if stage is S.CANCELLED:
        return person.hospital_id == consult.requester_org
    return person.hospital_id == consult.consultant_org and person.role == DOCTOR


async def _consult(connection: Connection, consult_id: str, person: HospitalPerson) -> Consult:
    consult = await repository.get_consult(
        connection, consult_id=consult_id, party=person.hospital_id
    )
    if consult is None:
        raise ConsultNotFound(consult_id)
    return consult


async def _page(
    connection: Connection,
    request: Request,
    pages: Any,
    person: HospitalPerson,
    *,
    consult_id: str,
    refusal: str | None = None,
) -> Response:
    async with one_moment(connection):
        consult = await _consult(connection, consult_id, person)
        steps = await repository.steps_of(connection, consult_id=consult_id)
        versions = await recommendation_store.versions(connection, consult_id=consult_id)
        question = (
            await question_store.question_of(
                connection, consult_id=consult_id, patient=consult.patient or ""
            )
            if consult.asked_first
            else None
        )
    consultant = person.hospital_id == consult.consultant_org
    doctor = person.role == DOCTOR
    response: Response = pages.TemplateResponse(
        request,
        "consult.html",
        {
            **_words(person),
            "steps": steps,
            "question": question,
            "refusal": refusal,
            "can_answer": consultant and doctor and consult.stage in AWAITING_CONSULTANT,
            "can_start_video": consultant and doctor and consult.stage is S.ACCEPTED,
            "can_join": consult.stage in JOINABLE,
            "can_cancel": not consultant and consult.stage in _CANCELLABLE,
            "can_sign": consultant and doctor and consult.stage in _SIGNABLE,
            **_advice(consult, versions, person),
            "needle_confirmed": request.query_params.get("needle") == "confirmed",
            "nihss_items": list(NIHSS_ITEMS.items()),
            "checklist": list(CHECKLIST.items()),
        },
        status_code=409 if refusal else 200,
    )
    return response


def _form_recommendation(form: Any, person: HospitalPerson) -> dict[str, Any]:
    """The page's form in the JSON shape hospital systems send (RecommendationIn)."""

    def value(name: str) -> str | None:
        text = str(form.get(name, "")).strip()
        return text or None

    return {
        "signed_by": person.user_id,
        "findings": {
            "nihss_items": {item: int(value(f"nihss-{item}") or 0) for item in NIHSS_ITEMS},
            "systolic_mmhg": value("systolic_mmhg"),
            "diastolic_mmhg": value("diastolic_mmhg"),
            "weight_kg": value("weight_kg"),
            "glucose_mg_dl": value("glucose_mg_dl"),
            "anticoagulant": value("anticoagulant"),
            "haemorrhage": value("haemorrhage") or "unknown",
            "aspects": value("aspects"),
            "lvo_site": value("lvo_site") or "unknown",
        },
        "checklist": {code: value(f"check-{code}") or "unknown" for code in CHECKLIST},
        "override_reason": value("override_reason"),
        "decision": value("decision"),
        "drug": value("drug") if value("decision") == "give" else None,
        "thrombectomy_transfer": value("thrombectomy_transfer") == "yes",
        "target_centre": value("target_centre"),
    }
