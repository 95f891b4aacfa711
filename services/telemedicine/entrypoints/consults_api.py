"""The teleconsults over REST, for the two hospitals of each (the caller authenticated with its
API key, as on the referral API): read a consult, and take its steps from a hospital system
(the consultant hospital accepts, declines or starts the video; the spoke cancels).

A third hospital is kept out by the query itself: it is told 404, as for a consult that does
not exist, and a referral's list shows it nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from services.telemedicine.adapters import repository
from services.telemedicine.domain.errors import ConsultNotFound, NotTheirStep
from services.telemedicine.domain.model import Consult, ConsultStep
from services.telemedicine.entrypoints.deps import ContextDep, json_body_schema, read_body
from services.telemedicine.service import consult_answers, needle
from shared.auth import CallerDep
from shared.db.pool import one_moment
from shared.runtime import RuntimeDep
from shared.workflow.consult_state import ConsultStage

router = APIRouter()

# Which of the consult's two hospitals may take each step from its system.
_CONSULTANT_STEPS = {ConsultStage.ACCEPTED, ConsultStage.DECLINED, ConsultStage.IN_VIDEO}
_REQUESTER_STEPS = {ConsultStage.CANCELLED}


class StepRequest(BaseModel):
    stage: Literal["accepted", "declined", "in-video", "cancelled"]
    # Required to decline or cancel; at most a line (it is shown on the timeline).
    reason: str | None = Field(default=None, max_length=200)
    # Who took the step in the hospital's system: a Practitioner reference.
    by: str | None = Field(default=None, pattern=r"^Practitioner/[A-Za-z0-9\-\.]{1,64}$")


class NeedleRequest(BaseModel):
    # Who confirmed it in the hospital's system (a name or id; shown on the timeline).
    by: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9\-\._/ ]+$")
    # When the needle went in, with its time zone; now when left out.
    at: datetime | None = None


def consult_json(consult: Consult, steps: list[ConsultStep] | None = None) -> dict[str, Any]:
    def when(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment is not None else None

    return {
        "id": consult.id,
        # A consult asked first: the referral its advice to transfer made (None until then).
        "referral": consult.referral if consult.asked_first else consult.referral_id,
        "asked_first": consult.asked_first,
        "status": consult.status.value,
        "stage": consult.stage.value,
        "status_reason": consult.status_reason,
        "requester": consult.requester_org,
        "consultant_hospital": consult.consultant_org,
        "consultant": consult.consultant,
        "rung": consult.rung,
        "requested_at": when(consult.requested_at),
        "accepted_at": when(consult.accepted_at),
        "video_at": when(consult.video_at),
        "decided_at": when(consult.decided_at),
        **(
            {
                "steps": [
                    {
                        "stage": step.stage.value,
                        "at": when(step.occurred_at),
                        "rung": step.rung,
                        "reason": step.reason,
                        "by": step.actor,
                    }
                    for step in steps
                ]
            }
            if steps is not None
            else {}
        ),
    }


@router.get("/consults", response_class=JSONResponse)
async def list_consults(referral: str, runtime: RuntimeDep, caller: CallerDep) -> JSONResponse:
    """The teleconsults of a referral that are between the caller's hospital and another."""
    async with runtime.pool.acquire() as connection:
        consults = await repository.consults_for_referral(
            connection, referral_id=referral, party=caller
        )
    return JSONResponse([consult_json(c) for c in consults])


@router.get("/consults/{consult_id}", response_class=JSONResponse)
async def read_consult(consult_id: str, runtime: RuntimeDep, caller: CallerDep) -> JSONResponse:
    """The consult and every step it took, with its time."""
    async with runtime.pool.acquire() as connection, one_moment(connection):
        consult = await repository.get_consult(connection, consult_id=consult_id, party=caller)
        if consult is None:
            raise ConsultNotFound(consult_id)
        steps = await repository.steps_of(connection, consult_id=consult_id)
    return JSONResponse(consult_json(consult, steps))


@router.post(
    "/consults/{consult_id}/steps",
    response_class=JSONResponse,
    openapi_extra=json_body_schema(StepRequest),
)
async def take_step(
    consult_id: str,
    request: Request,
    runtime: RuntimeDep,
    context: ContextDep,
    caller: CallerDep,
) -> JSONResponse:
    """A hospital system moves the consult on: the consultant hospital accepts, declines (the
    next on the ladder is paged) or starts the video; the spoke cancels."""
    async with runtime.pool.acquire() as connection, connection.transaction():
        consult = await repository.get_consult(connection, consult_id=consult_id, party=caller)
        if consult is None:
            raise ConsultNotFound(consult_id)
        step = await read_body(request, StepRequest)
        stage = ConsultStage(step.stage)
        if (caller == consult.consultant_org and stage in _CONSULTANT_STEPS) or (
            caller == consult.requester_org and stage in _REQUESTER_STEPS
        ):
            moved = await consult_answers.move(
                connection,
                consult_id=consult_id,
                party=caller,
                stage=stage,
                reason=step.reason,
                by=step.by,
                context=context,
                now=datetime.now(UTC),
            )
        else:
            raise NotTheirStep(stage.value)
    return JSONResponse(consult_json(moved))


@router.post(
    "/consults/{consult_id}/needle",
    response_class=JSONResponse,
    status_code=202,
    openapi_extra=json_body_schema(NeedleRequest),
)
async def confirm_needle(
    consult_id: str,
    request: Request,
    runtime: RuntimeDep,
    context: ContextDep,
    caller: CallerDep,
) -> JSONResponse:
    """The spoke's system confirms the recommended thrombolysis was started: the referral
    service records the needle milestone (accepted here, recorded there: 202). Refused (409)
    unless the latest signed recommendation advises giving it."""
    now = datetime.now(UTC)
    async with runtime.pool.acquire() as connection, connection.transaction():
        # A third hospital is told 404 whatever it sends, as for a consult that does not exist.
        if await repository.get_consult(connection, consult_id=consult_id, party=caller) is None:
            raise ConsultNotFound(consult_id)
        body = await read_body(request, NeedleRequest)
        at = await needle.confirm_needle(
            connection,
            consult_id=consult_id,
            party=caller,
            person=body.by,
            at=body.at or now,
            context=context,
            now=now,
        )
    return JSONResponse(
        {"consult": consult_id, "needle": at.isoformat(), "by": body.by}, status_code=202
    )
