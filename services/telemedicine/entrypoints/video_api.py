"""Joining a consult's video room: a join token for one participant of one of the consult's
two hospitals, for that consult's room only. The answer is a secret: never cached, never
logged."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from services.telemedicine.adapters import repository
from services.telemedicine.domain.errors import ConsultNotFound, NotJoinable
from services.telemedicine.domain.video import JOINABLE, Participant
from services.telemedicine.entrypoints.deps import VideoTokensDep
from shared.auth import CallerDep
from shared.runtime import RuntimeDep

router = APIRouter()


class JoinRequest(BaseModel):
    # The person joining in the hospital's system (a Practitioner id); the hospital otherwise.
    by: str | None = Field(default=None, pattern=r"^[A-Za-z0-9\-\.]{1,64}$")
    # Shown to the others in the call (e.g. "Dr Anan, Trang Hospital"); no patient data.
    name: str | None = Field(default=None, max_length=80)


@router.post("/consults/{consult_id}/join", response_class=JSONResponse)
async def join_video(
    consult_id: str,
    runtime: RuntimeDep,
    tokens: VideoTokensDep,
    caller: CallerDep,
    join: Annotated[JoinRequest | None, Body()] = None,
) -> JSONResponse:
    """A join link with a token valid for this consult's room only, for a limited time."""
    async with runtime.pool.acquire() as connection:
        consult = await repository.get_consult(connection, consult_id=consult_id, party=caller)
    if consult is None:
        raise ConsultNotFound(consult_id)
    if consult.stage not in JOINABLE:
        raise NotJoinable(consult.stage.value)
    request = join or JoinRequest()
    participant = Participant(
        id=f"Practitioner/{request.by}" if request.by else f"Organization/{caller}",
        name=request.name or request.by or caller,
        hospital=caller,
        # The consultant leads the call.
        moderator=caller == consult.consultant_org,
    )
    link = tokens.join(room=consult.room, participant=participant, now=datetime.now(UTC))
    return JSONResponse(
        {
            "url": link.url,
            "room": link.room,
            "token": link.token,
            "expires_at": link.expires_at.isoformat(),
        },
        headers={"Cache-Control": "no-store"},
    )
