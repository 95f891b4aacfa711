"""Use cases of the referral service: one function each, working inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from services.referral.adapters import fhir_mapping, repository
from services.referral.domain.model import InvalidReferral, RequestReferral
from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage
from shared.fhir.models import Communication, Task
from shared.messaging.consumer import PermanentMessageError
from shared.messaging.outbox import add_to_outbox
from shared.messaging.topics import NOTIFICATION_REQUESTS, REFERRAL_EVENTS


@dataclass(frozen=True)
class ReferralEndpoints:
    """Where the service says messages come from, and where clinicians open a referral."""

    source_endpoint: str
    public_url: str

    def referral_url(self, referral_id: str) -> str:
        return f"{self.public_url.rstrip('/')}/referrals/{referral_id}"


class ReferralConflict(Exception):
    """A different request already used this referral id."""


async def request_referral(
    connection: Connection, *, request: RequestReferral, endpoints: ReferralEndpoints
) -> str:
    """Stores the referral, its first timeline step and its events; returns the referral id.

    Sending the same request message again returns the same referral and emits nothing new.
    """
    existing = await repository.referral_id_for_request(
        connection, request_message_id=request.request_message_id
    )
    if existing is not None:
        return existing
    requester_name = await repository.organization_name(
        connection, organization_id=request.requester_org
    )
    if requester_name is None:
        raise InvalidReferral(
            f"Unknown requesting organization {request.requester_org!r}",
            expression="Task.requester",
        )
    if await repository.organization_name(connection, organization_id=request.owner_org) is None:
        raise InvalidReferral(
            f"Unknown receiving organization {request.owner_org!r}", expression="Task.owner"
        )
    if not await repository.insert_referral(connection, request=request):
        raise ReferralConflict(request.referral_id)
    await repository.add_timeline_entry(
        connection,
        referral_id=request.referral_id,
        event_code=EventCode.REFERRAL_REQUESTED.value,
        occurred_at=request.requested_at,
        source=f"Organization/{request.requester_org}",
        message_id=request.request_message_id,
        detail={
            "requester": request.requester_org,
            "owner": request.owner_org,
            "teleconsult_requested": request.teleconsult_requested,
        },
    )
    await add_to_outbox(
        connection,
        topic=REFERRAL_EVENTS,
        key=request.referral_id,
        message=fhir_mapping.referral_requested_message(
            request, source_endpoint=endpoints.source_endpoint
        ),
    )
    await add_to_outbox(
        connection,
        topic=NOTIFICATION_REQUESTS,
        key=request.referral_id,
        message=fhir_mapping.stroke_team_alert(
            request,
            requester_name=requester_name,
            referral_url=endpoints.referral_url(request.referral_id),
            source_endpoint=endpoints.source_endpoint,
        ),
    )
    return request.referral_id


async def record_teleconsult_requested(connection: Connection, message: FhirMessage) -> None:
    consult = message.focus_resource(Task)
    parent = consult.partOf[0].reference if consult and consult.partOf else None
    if consult is None or parent is None or not parent.startswith("Task/"):
        raise PermanentMessageError("teleconsult-requested needs a Task partOf the referral Task")
    await _add_step(
        connection,
        referral_id=parent.removeprefix("Task/"),
        message=message,
        occurred_at=_instant(consult.authoredOn) or datetime.now(UTC),
        detail={"consult": str(consult.id)},
    )


async def record_notification_outcome(connection: Connection, message: FhirMessage) -> None:
    communication = message.focus_resource(Communication)
    about = (
        [a.reference for a in (communication.about or []) if a.reference] if communication else []
    )
    referral_ref = next((ref for ref in about if ref.startswith("Task/")), None)
    if communication is None or referral_ref is None:
        raise PermanentMessageError("notification outcome needs a Communication about a Task")
    await _add_step(
        connection,
        referral_id=referral_ref.removeprefix("Task/"),
        message=message,
        occurred_at=_instant(communication.sent) or datetime.now(UTC),
        detail={
            "recipient": [r.reference for r in communication.recipient or []],
            "channel": [
                c.code for medium in communication.medium or [] for c in medium.coding or []
            ],
            "status": communication.status,
        },
    )


async def _add_step(
    connection: Connection,
    *,
    referral_id: str,
    message: FhirMessage,
    occurred_at: datetime,
    detail: dict[str, object],
) -> None:
    if await repository.get_referral(connection, referral_id=referral_id) is None:
        raise PermanentMessageError(f"Unknown referral {referral_id!r}")
    await repository.add_timeline_entry(
        connection,
        referral_id=referral_id,
        event_code=message.event.value,
        occurred_at=occurred_at,
        source=message.sender,
        message_id=message.message_id,
        detail=detail,
    )


def _instant(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value)) if value else None
