"""Home-isolation monitoring over REST, for hospital systems (API key): enrol a patient, read
an episode (its FHIR resources, check-ins and the flag's audit), lower its flag with a reason,
finish it.

An episode is read by the hospital that manages it and the one whose consultant its red flag
pages; a third is told 404, as for an episode that does not exist. Errors are
OperationOutcomes (shared/web.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.telemedicine.adapters import monitoring_fhir
from services.telemedicine.adapters import monitoring_repository as repository
from services.telemedicine.adapters.monitoring_input import EnrolmentIn, FinishIn, LowerIn
from services.telemedicine.domain.episode import Episode
from services.telemedicine.domain.monitoring import Level
from services.telemedicine.entrypoints.deps import MonitoringDep, json_body_schema, read_body
from services.telemedicine.service import monitoring
from services.telemedicine.service.monitoring_context import MonitoringContext
from shared.auth import CallerDep
from shared.db.pool import Connection
from shared.runtime import RuntimeDep

router = APIRouter(prefix="/monitoring", tags=["home-isolation monitoring"])


def episode_json(episode: Episode, *, context: MonitoringContext, manager: bool) -> dict[str, Any]:
    """The episode as a hospital system reads it; its managing hospital also gets the patient's
    check-in link (to hand over by its own means)."""
    programme = context.programme(episode.programme)
    return {
        "id": episode.id,
        "hospital": episode.hospital,
        "consultant_hospital": episode.consultant_hospital,
        "patient": episode.patient,
        "hospital_number": episode.hospital_number,
        "programme": episode.programme,
        "level": episode.level.code,
        "level_since": _when(episode.level_since),
        "next_check_in": _when(episode.next_check_in),
        "last_check_in": _when(episode.last_check_in),
        "missed": episode.alerted,
        "consults_started": episode.consults_started,
        "finished": episode.finished,
        "finished_at": _when(episode.finished_at),
        "finish_reason": episode.finish_reason.value if episode.finish_reason else None,
        "finished_by": episode.finished_by,
        "resources": [
            r.model_dump(mode="json", exclude_none=True)
            for r in monitoring_fhir.episode_resources(episode, programme=programme)
        ],
        **({"check_in_link": context.check_in_url(episode.id)} if manager else {}),
    }


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@router.post("/episodes", response_class=JSONResponse, status_code=201)
async def enrol(
    enrolment: EnrolmentIn, runtime: RuntimeDep, context: MonitoringDep, caller: CallerDep
) -> JSONResponse:
    """Enrols a patient: an EpisodeOfCare managed by the caller's hospital, a CarePlan of
    check-ins at the programme's times, a care team."""
    async with runtime.pool.acquire() as connection, connection.transaction():
        episode = await monitoring.enrol(
            connection,
            enrolment=monitoring.Enrolment(
                hospital=caller,
                **enrolment.model_dump(exclude={"care_team"}),
                care_team=tuple(enrolment.care_team),
            ),
            context=context,
            now=datetime.now(UTC),
        )
    return JSONResponse(episode_json(episode, context=context, manager=True), status_code=201)


@router.get("/episodes/{episode_id}", response_class=JSONResponse)
async def read_episode(
    episode_id: str, runtime: RuntimeDep, context: MonitoringDep, caller: CallerDep
) -> JSONResponse:
    """The episode, its latest check-ins and every change of its flag (who, when, why)."""
    async with runtime.pool.acquire() as connection:
        return JSONResponse(
            await episode_with_history(connection, episode_id, party=caller, context=context)
        )


async def episode_with_history(
    connection: Connection, episode_id: str, *, party: str, context: MonitoringContext
) -> dict[str, Any]:
    history = await repository.episode_history(connection, episode_id=episode_id, party=party)
    if history is None:
        raise monitoring.EpisodeNotFound(episode_id)
    episode, check_ins, changes = history.episode, history.check_ins, history.changes
    return {
        **episode_json(episode, context=context, manager=episode.hospital == party),
        "check_ins": [
            {
                "at": c.at.isoformat(),
                "source": c.source,
                "readings": c.readings,
                "symptoms": c.symptoms,
                "level": c.level.code,
                "reasons": c.reasons,
                "asked_again": c.implausible,
            }
            for c in check_ins
        ],
        "flag_changes": [
            {
                "from": change.before.code,
                "to": change.after.code,
                "at": change.at.isoformat(),
                "reason": change.reason,
                "by": change.by,
            }
            for change in changes
        ],
    }


@router.post(
    "/episodes/{episode_id}/flag",
    response_class=JSONResponse,
    openapi_extra=json_body_schema(LowerIn),
)
async def lower_flag(
    episode_id: str,
    request: Request,
    runtime: RuntimeDep,
    context: MonitoringDep,
    caller: CallerDep,
) -> JSONResponse:
    """A nurse of the managing hospital lowers the flag, with a reason (levels rise by
    themselves; lowering is a person's decision, audited). The body is read once the episode
    is found to be the caller's to change: another hospital learns nothing from it."""
    async with runtime.pool.acquire() as connection, connection.transaction():
        # Checked before the body is read: another hospital learns nothing from it.
        await monitoring.managed_episode(
            connection, episode_id=episode_id, hospital=caller, for_update=False
        )
        lower = await read_body(request, LowerIn)
        episode = await monitoring.lower_flag(
            connection,
            episode_id=episode_id,
            hospital=caller,
            to=Level.of(lower.level),
            by=lower.by,
            reason=lower.reason,
            context=context,
            now=datetime.now(UTC),
        )
    return JSONResponse(episode_json(episode, context=context, manager=True))


@router.post(
    "/episodes/{episode_id}/finish",
    response_class=JSONResponse,
    openapi_extra=json_body_schema(FinishIn),
)
async def finish_episode(
    episode_id: str,
    request: Request,
    runtime: RuntimeDep,
    context: MonitoringDep,
    caller: CallerDep,
) -> JSONResponse:
    """The managing hospital ends the episode with a reason code (completed, admitted,
    withdrawn, died): reminders and missed check-in alerts stop, the patient's link and
    check-ins are refused, the board drops it; EpisodeOfCare.status becomes finished. Sent
    again, it answers the episode as first finished. The body is read once the episode is found
    to be the caller's to change."""
    async with runtime.pool.acquire() as connection, connection.transaction():
        # Checked before the body is read: another hospital learns nothing from it.
        await monitoring.managed_episode(
            connection, episode_id=episode_id, hospital=caller, for_update=False
        )
        finish = await read_body(request, FinishIn)
        episode = await monitoring.finish_episode(
            connection,
            episode_id=episode_id,
            hospital=caller,
            reason=finish.reason,
            by=finish.by,
            now=datetime.now(UTC),
        )
    return JSONResponse(episode_json(episode, context=context, manager=True))
