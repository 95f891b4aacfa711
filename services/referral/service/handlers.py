"""Use cases of the referral service: one function each, working inside the caller's transaction."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from fhir.resources.R4B.resource import Resource

from services.referral.adapters import (
    directory,
    fhir_inbound,
    fhir_mapping,
    notification_texts,
    repository,
)
from services.referral.domain import lifecycle
from services.referral.domain.lifecycle import ReferralChange
from services.referral.domain.milestone_naming import milestones_of
from services.referral.domain.model import (
    InvalidRequest,
    NotAParty,
    Referral,
    ReferralNotFound,
)
from services.referral.service import rerouting
from services.referral.service.context import ReferralContext
from services.referral.service.intake import ReferralConflict, request_referral
from services.referral.service.patient_clock import record_milestones
from shared.db.pool import Connection
from shared.fhir import references
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage
from shared.fhir.models import Communication, Task
from shared.messaging.consumer import PermanentMessageError
from shared.messaging.outbox import add_to_outbox
from shared.messaging.topics import NOTIFICATION_REQUESTS, REFERRAL_EVENTS
from shared.vocabulary.capabilities import StrokeCapability
from shared.workflow.task_state import TaskStatus, TransitionRefused


class UnsupportedEvent(Exception):
    """Hospital systems cannot send this event to the referral service."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# How each refusal is told to the sender: HTTP status and OperationOutcome issue type.
REFUSALS: dict[type[Exception], tuple[int, str]] = {
    InvalidRequest: (422, "invalid"),
    UnsupportedEvent: (422, "not-supported"),
    NotAParty: (403, "forbidden"),
    ReferralNotFound: (404, "not-found"),
    TransitionRefused: (409, "business-rule"),
    ReferralConflict: (409, "duplicate"),
}
REFUSAL_TYPES = tuple(REFUSALS)


def describe_refusal(error: Exception) -> tuple[int, str, str]:
    """(HTTP status, issue type, reason for the sender) of a refused message."""
    status, issue_code = next(v for kind, v in REFUSALS.items() if isinstance(error, kind))
    reason = getattr(error, "reason", None) or {
        ReferralNotFound: f"Unknown referral {error}",
        ReferralConflict: f"Referral id {error} is already in use",
    }.get(type(error), str(error))
    return status, issue_code, reason


def refusal_expression(error: Exception) -> str | None:
    """The FHIRPath of the element at fault, when the refusal names one."""
    expression = getattr(error, "expression", None)
    return str(expression) if expression else None


async def apply_hospital_message(
    connection: Connection, message: FhirMessage, *, context: ReferralContext, now: datetime
) -> Resource:
    """Applies a hospital system's message (from Kafka or $process-message) in one transaction;
    returns the resource the ``ok`` response carries (the Task, or the Organization).

    Raises one of REFUSAL_TYPES when the message cannot be applied.
    """
    if message.event is EventCode.AVAILABILITY_CHANGED:
        organization_id, unavailable = fhir_mapping.availability_from_message(message)
        await set_availability(
            connection,
            organization_id=organization_id,
            sender_org=references.organization_id(message.sender) or message.sender,
            unavailable=unavailable,
        )
        return fhir_mapping.availability_organization(organization_id, unavailable)
    if message.event in (EventCode.REFERRAL_REQUESTED, EventCode.STROKE_PREALERT):
        request = fhir_inbound.request_from_message(
            message, now=now, patient_systems=await directory.patient_identifier_systems(connection)
        )
        referral_id = await request_referral(connection, request=request, context=context)
        referral = await repository.get_referral(connection, referral_id=referral_id)
        if referral is None:
            raise LookupError(f"referral {referral_id} is missing right after it was stored")
        return fhir_mapping.referral_task(referral)
    if message.event not in lifecycle.RULES:
        raise UnsupportedEvent(f"Hospital systems cannot send {message.event.value!r}")
    change = fhir_inbound.change_from_message(message, now=now)
    changed = await change_referral(connection, change=change, context=context)
    return fhir_mapping.referral_task(changed)


async def change_referral(
    connection: Connection, *, change: ReferralChange, context: ReferralContext
) -> Referral:
    """Applies a lifecycle step from a hospital: state machine, timeline, event, notification.

    Raises ReferralNotFound, NotAParty, TransitionRefused or InvalidReferral when refused.
    """
    referral = await repository.get_referral(
        connection, referral_id=change.referral_id, for_update=True
    )
    if referral is None:
        raise ReferralNotFound(change.referral_id)
    new_status = lifecycle.apply(referral, change)
    if new_status is not referral.status:
        await repository.update_status(connection, referral_id=referral.id, status=new_status)
        referral = replace(referral, status=new_status)
    business_status = lifecycle.RULES[change.event].business_status
    milestones = milestones_of(referral, change)
    await record_milestones(
        connection, referral_id=referral.id, reported_by=change.sender_org, milestones=milestones
    )
    detail: dict[str, object] = {
        "status": new_status.value,
        **({"reason": change.status_reason} if change.status_reason else {}),
        **({"business_status": business_status} if business_status else {}),
        **({"outcome": change.outcome} if change.outcome else {}),
    }
    # A clinical update shows each time it carries at that clinical time (the needle at
    # 21:10, not when the message came); the entry's recorded time says when it came.
    steps = [(change.occurred_at, detail)]
    if change.event is EventCode.CLINICAL_UPDATE and milestones:
        steps = [
            (
                reported.occurred_at,
                {
                    **detail,
                    "milestone": code,
                    "hospital": reported.hospital or change.sender_org,
                    "time_source": reported.source,
                    "uncertain": reported.uncertain or reported.source == "estimated",
                },
            )
            for code, reported in milestones
        ]
    for occurred_at, step_detail in steps:
        await repository.add_timeline_entry(
            connection,
            referral_id=referral.id,
            event_code=change.event.value,
            occurred_at=occurred_at,
            source=f"Organization/{change.sender_org}",
            message_id=change.message_id,
            detail=step_detail,
        )
    await add_to_outbox(
        connection,
        topic=REFERRAL_EVENTS,
        key=referral.id,
        message=fhir_mapping.referral_changed_message(
            referral,
            change,
            business_status=business_status,
            source_endpoint=context.source_endpoint,
        ),
    )
    if new_status is TaskStatus.REJECTED:
        await rerouting.reroute(
            connection,
            referral=referral,
            reason=f"declined by {referral.owner_org} ({change.status_reason})",
            context=context,
            # The new referral is asked now, when the network re-routes, not at the decline's
            # clinical time (which the declining hospital's clock stamped).
            now=datetime.now(UTC),
            destination=change.redirect_to,
        )
    if change.event in TOLD_TO_THE_REFERRING_HOSPITAL:
        await add_to_outbox(
            connection,
            topic=NOTIFICATION_REQUESTS,
            key=referral.id,
            message=notification_texts.status_notice(
                referral,
                change,
                referral_url=context.referral_url(referral.id),
                source_endpoint=context.source_endpoint,
            ),
        )
    return referral


# The referring clinician is waiting for these answers (instant confirmation).
TOLD_TO_THE_REFERRING_HOSPITAL = frozenset(
    {EventCode.REFERRAL_ACCEPTED, EventCode.REFERRAL_DECLINED}
)


async def set_availability(
    connection: Connection, *, organization_id: str, sender_org: str, unavailable: list[str]
) -> None:
    """A hospital reports what is out of service (CT down, stroke unit full); routing uses it."""
    if sender_org != organization_id:
        raise NotAParty("A hospital reports only its own availability")
    known = [capability.value for capability in StrokeCapability]
    unknown = sorted(set(unavailable) - set(known))
    if unknown:
        raise InvalidRequest(f"Unknown capabilities {unknown}; known: {', '.join(known)}")
    if not await repository.set_unavailable(
        connection, organization_id=organization_id, unavailable=unavailable
    ):
        raise InvalidRequest(f"Unknown organization {organization_id!r}")


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
        occurred_at=_instant(communication.sent or communication.received) or datetime.now(UTC),
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
