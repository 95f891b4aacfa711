"""The spoke asks for a teleconsult before any referral (consult first): /app/consults/new in
the clinicians' web app, behind the proxy's login as the other consult pages. One phone screen:
the hospital number, last known well (and whether it is only an estimate), the patient's
arrival, NIHSS if known, the question, and the hub whose on-call consultant is paged. The
consult is paged at once, exactly as a referral's; the page then shows the consult.

The form carries a random request id: sent twice (a double tap, a resent form), it is one
consult. It posts with the session cookie and its synchronizer token, as the consult pages do."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import AwareDatetime, BaseModel, Field, ValidationError

from services.telemedicine.adapters import hub_directory, question_store
from services.telemedicine.adapters.page_wording import words
from services.telemedicine.domain.first_consult import (
    ASKERS,
    MAX_NIHSS,
    MAX_QUESTION,
    ConsultQuestion,
    HubDirectory,
    UnknownHub,
    first_consult_id,
)
from services.telemedicine.entrypoints.deps import ContextDep, MonitoringDep, PagesDep
from services.telemedicine.service import first_consult
from shared.errors import DomainError, Forbidden
from shared.province_time import PROVINCE_ZONE
from shared.runtime import RuntimeDep
from shared.web_identity import HospitalPerson, HospitalPersonDep

router = APIRouter(prefix="/app/consults", include_in_schema=False)
_ID = r"^[A-Za-z0-9\-\.]{1,64}$"


class FirstConsultForm(BaseModel):
    request: str = Field(pattern=r"^[a-f0-9]{16,32}$")
    hospital_number: str = Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9\-/]+$")
    consultant_hospital: str = Field(pattern=_ID)
    last_known_well: AwareDatetime | None = None
    lkw_uncertain: bool = False
    door_in: AwareDatetime | None = None
    nihss: int | None = Field(default=None, ge=0, le=MAX_NIHSS)
    question: str = Field(default="", max_length=MAX_QUESTION)


@router.get("/new", response_class=HTMLResponse)
async def ask_form(
    request: Request,
    runtime: RuntimeDep,
    pages: PagesDep,
    monitoring: MonitoringDep,
    person: HospitalPersonDep,
) -> Response:
    _must_ask(person)
    async with runtime.pool.acquire() as connection:
        hubs = await question_store.hubs_consulted_by(connection, hospital=person.hospital_id)
        directory = await hub_directory.hub_directory(connection)
    default = monitoring.default_consultant_hospital
    # The hub asked last (else the configured one) is filled in; the others are offered.
    return _form_page(
        request,
        pages,
        person,
        {"consultant_hospital": next(iter(hubs), default or "")},
        directory,
        hubs=[*hubs, *([default] if default and default not in hubs else [])],
    )


@router.post("/new", response_class=HTMLResponse)
async def ask(
    request: Request,
    runtime: RuntimeDep,
    pages: PagesDep,
    context: ContextDep,
    person: HospitalPersonDep,
) -> Response:
    _must_ask(person)
    form = await request.form()
    fields = {key: str(value).strip() for key, value in form.items() if str(value).strip()}
    now = datetime.now(UTC)
    try:
        body = FirstConsultForm.model_validate(
            {
                **fields,
                "last_known_well": _local(fields.get("last_known_well")),
                "door_in": _local(fields.get("door_in")),
                "lkw_uncertain": "lkw_uncertain" in fields,
            }
        )
        consult_id = first_consult_id(
            requester_org=person.hospital_id, request_id=f"web.{body.request}"
        )
        async with runtime.pool.acquire() as connection, connection.transaction():
            consult = await first_consult.ask(
                connection,
                consult_id=consult_id,
                requester_org=person.hospital_id,
                consultant_org=body.consultant_hospital,
                question=ConsultQuestion(
                    patient=f"Patient/pt-{consult_id}",
                    hospital_number=body.hospital_number,
                    last_known_well=body.last_known_well,
                    lkw_uncertain=body.lkw_uncertain,
                    door_in=body.door_in,
                    nihss=body.nihss,
                    question=body.question,
                ),
                context=context,
                now=now,
            )
    except (DomainError, ValidationError, ValueError) as refused:
        async with runtime.pool.acquire() as connection:
            directory = await hub_directory.hub_directory(connection)
        return _form_page(
            request,
            pages,
            person,
            fields,
            directory,
            problem=_reason(refused, words(person.language)),
            status=422,
        )
    return RedirectResponse(f"/app/consults/{consult.id}", status_code=303)


def _local(text: str | None) -> str | None:
    """A datetime-local value ("2026-12-01T09:05") is on the province's clock."""
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=PROVINCE_ZONE)).isoformat()


def _reason(refused: Exception, wording: dict[str, str]) -> str:
    if isinstance(refused, UnknownHub):
        return wording["unknown_hub"]
    if isinstance(refused, DomainError):
        return refused.reason
    if isinstance(refused, ValidationError):
        error = refused.errors()[0]
        return f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
    return "A time is not a date and time"


def _offered(asked_before: list[str], directory: HubDirectory) -> list[tuple[str, str]]:
    """(organization id, name) of each hub the form offers."""
    if not directory.received:
        return [(hub, hub) for hub in asked_before]
    known = [hub for hub in asked_before if hub in directory.hubs]
    ordered = known + sorted(
        (hub for hub in directory.hubs if hub not in known),
        key=lambda hub: (not directory.hubs[hub].stroke_hub, directory.hubs[hub].name),
    )
    return [(hub, directory.hubs[hub].name) for hub in ordered]


def _must_ask(person: HospitalPerson) -> None:
    if person.role not in ASKERS:
        raise Forbidden("Only a hospital's nurses and doctors ask for a teleconsult")


def _form_page(
    request: Request,
    pages: Any,
    person: HospitalPerson,
    fields: dict[str, str],
    directory: HubDirectory,
    *,
    hubs: list[str] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    response: Response = pages.TemplateResponse(
        request,
        "consult_new.html",
        {
            "w": words(person.language),
            "language": person.language,
            "zone": PROVINCE_ZONE,
            "csrf_token": person.csrf_token,
            "fields": fields,
            # A fresh id for a fresh form; a form shown again keeps its own.
            "request_id": fields.get("request") or secrets.token_hex(16),
            "now": datetime.now(PROVINCE_ZONE).strftime("%Y-%m-%dT%H:%M"),
            # With the directory received, the hubs it lists are offered by name (those asked
            # before first), and only they are accepted; without it, the hubs asked before.
            "hubs": _offered(hubs or [], directory),
            "directory_received": directory.received,
            "problem": problem,
        },
        status_code=status,
    )
    return response
