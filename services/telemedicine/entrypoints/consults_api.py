"""The teleconsults over REST, for the two hospitals of each (the caller authenticated with its
API key, as on the referral API)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse

from services.telemedicine.adapters import repository
from services.telemedicine.domain.model import Consult
from services.telemedicine.entrypoints.deps import ensure_party
from shared.auth import CallerDep
from shared.runtime import RuntimeDep

router = APIRouter()


def _consult_json(consult: Consult) -> dict[str, Any]:
    return {
        "id": consult.id,
        "referral": consult.referral_id,
        "status": consult.status.value,
        "requester": consult.requester_org,
        "consultant": consult.consultant_org,
    }


@router.get("/consults", response_class=JSONResponse)
async def list_consults(referral: str, runtime: RuntimeDep, caller: CallerDep) -> JSONResponse:
    """The teleconsults of a referral, for the two hospitals of each."""
    async with runtime.pool.acquire() as connection:
        consults = await repository.consults_for_referral(connection, referral_id=referral)
    for consult in consults:
        ensure_party(consult, caller)
    return JSONResponse([_consult_json(c) for c in consults])


@router.get("/consults/{consult_id}", response_class=JSONResponse)
async def read_consult(consult_id: str, runtime: RuntimeDep, caller: CallerDep) -> JSONResponse:
    async with runtime.pool.acquire() as connection:
        consult = await repository.get_consult(connection, consult_id=consult_id)
    if consult is None:
        raise HTTPException(404, f"No consult {consult_id[:80]!r}")
    ensure_party(consult, caller)
    return JSONResponse(_consult_json(consult))
