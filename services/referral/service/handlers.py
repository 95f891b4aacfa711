"""Use cases of the referral service: one function each, working inside the caller's transaction."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from services.referral.adapters import (
    fhir_inbound,
    fhir_mapping,
    fhir_steps,
    notification_texts,
    repository,
    timeline_repository,
)
from services.referral.domain import lifecycle
from services.referral.domain.commands import RecordStep, ReferralChange
from services.referral.domain.errors import (
    InvalidRequest,
    NotAParty,
    ReferralNotFound,
    UnsupportedEvent,
)
from services.referral.domain.milestone_naming import milestones_of
from services.referral.domain.model import Availability, Referral
from services.referral.service import alerts, consult_first, rerouting
from services.referral.service.context import ReferralContext
from services.referral.service.intake import intake_claimed, intake_referral
from services.referral.service.patient_clock import record_milestones
from shared.db.pool import Connection
from shared.errors import DomainError
from shared.fhir import references
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage
from shared.messaging.inbox import Claim, InboxEntry
from shared.messaging.outbox import add_to_outbox
from shared.messaging.topics import NOTIFICATION_REQUESTS, REFERRAL_EVENTS
from shared.vocabulary.capabilities import StrokeCapability
from shared.vocabulary.milestones import MilestoneCode
from shared.workflow.episode_ids import is_episode_id
from shared.workflow.task_state import TaskStatus


async def apply_hospital_message(
    connection: Connection, message: FhirMessage, *, context: ReferralContext, now: datetime
) -> Referral | Availability:
    """Applies a hospital system's message (from Kafka or $process-message) in one transaction;
    returns what the ``ok`` answer shows (the referral in its new state, or the hospital's
    availability: ``fhir_mapping.answer_focus`` renders it).

    Raises a DomainError (services/referral/domain/errors.py) when the message is refused.
    """
    if message.event is EventCode.AVAILABILITY_CHANGED:
        organization_id, unavailable = fhir_mapping.availability_from_message(message)
        return await set_availability(
            connection,
            organization_id=organization_id,
            sender_org=references.organization_id(message.sender) or message.sender,
            unavailable=unavailable,
        )
    if message.event in (EventCode.REFERRAL_REQUESTED, EventCode.STROKE_PREALERT):
        # One reading of the directory: the hospitals' patient number systems and routing.
        hospitals = await context.directory.entries(connection)
        request = fhir_inbound.request_from_message(
            message,
            now=now,
            patient_systems={
                entry.id: entry.patient_identifier_system
                for entry in hospitals.values()
                if entry.patient_identifier_system is not None
            },
        )
        return await intake_referral(
            connection, request=request, context=context, directory=hospitals
        )
    if message.event not in lifecycle.RULES:
        raise UnsupportedEvent(f"Hospital systems cannot send {message.event.value!r}")
    change = fhir_inbound.change_from_message(message, now=now)
    return await change_referral(connection, change=change, context=context)


async def apply_hospital_message_in_one_statement(
    connection: Connection, inbox: InboxEntry, *, context: ReferralContext, now: datetime
) -> tuple[Claim, Referral | None] | None:
    """A hospital's new referral or pre-alert, with its message recorded in the inbox by the
    intake's one statement (no transaction): what the claim found and, when FIRST, the referral
    as stored. None, with nothing written, for any other message or an intake that needs more
    (``intake.intake_claimed``): the caller claims it and applies ``apply_hospital_message``
    in a transaction."""
    message = inbox.message
    if message.event not in (EventCode.REFERRAL_REQUESTED, EventCode.STROKE_PREALERT):
        return None
    hospitals = await context.directory.entries(connection)
    try:
        request = fhir_inbound.request_from_message(
            message,
            now=now,
            patient_systems={
                entry.id: entry.patient_identifier_system
                for entry in hospitals.values()
                if entry.patient_identifier_system is not None
            },
        )
    except DomainError:
        return None  # refused, unless the message is a repeat: the claim says first
    return await intake_claimed(
        connection, request=request, context=context, directory=hospitals, inbox=inbox
    )


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
    if referral.teleconsult_requested and any(
        code == MilestoneCode.DOOR_IN_FIRST for code, _ in milestones
    ):
        # The door-in may show the consultant was paged late (door-to-request > 15 min).
        await alerts.raise_due_alerts(
            connection, referral=referral, context=context, now=datetime.now(UTC)
        )
    detail: dict[str, object] = {
        "status": new_status.value,
        **({"reason": change.status_reason} if change.status_reason else {}),
        **({"business_status": business_status} if business_status else {}),
        **({"outcome": change.outcome} if change.outcome else {}),
        **({"recorded_by": change.recorded_by} if change.recorded_by else {}),
        **({"correction_reason": change.correction_reason} if change.correction_reason else {}),
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
    await timeline_repository.add_timeline_entries(
        connection,
        referral_id=referral.id,
        event_code=change.event.value,
        source=f"Organization/{change.sender_org}",
        message_id=change.message_id,
        steps=steps,
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
) -> Availability:
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
    return Availability(organization_id, frozenset(unavailable))


async def record_teleconsult_step(
    connection: Connection,
    message: FhirMessage,
    *,
    context: ReferralContext,
    referral_id: str | None = None,
) -> RecordStep:
    """The message's steps on the referral's timeline (two for a consult opened with its first
    page: fhir_steps.teleconsult_steps); returns the last. ``referral_id``: the referral a
    consult asked first made (its Task names none yet)."""
    steps = fhir_steps.teleconsult_steps(message, referral_id=referral_id)
    step = steps[-1]
    added, door_in_known = await timeline_repository.add_timeline_steps_if_known(
        connection,
        referral_id=step.referral_id,
        entries=[timeline_repository.NewTimelineEntry.of_step(step) for step in steps],
        door_in_code=MilestoneCode.DOOR_IN_FIRST.value,
    )
    if not added:
        raise ReferralNotFound(step.referral_id)
    if steps[0].event is EventCode.TELECONSULT_REQUESTED and door_in_known:
        # Paged more than 15 min after a door-in already known: the spoke is alerted now.
        # (Without a door-in nothing can be late: no alert round. The INSERT looked.)
        await alerts.raise_due_alerts_of(
            connection, referral_id=step.referral_id, context=context, now=datetime.now(UTC)
        )
    return step


async def record_notification_outcome(connection: Connection, message: FhirMessage) -> None:
    outcome = fhir_steps.notification_outcome_step(message)
    if is_episode_id(outcome.referral_id):
        return  # a home-isolation episode's reminder or alert: telemedicine's, no referral's
    step = await consult_first.file_notification_outcome(connection, step=outcome)
    if step is not None:  # (None: a page of a consult asked first, kept for its referral)
        await record_step(connection, step=step)


async def record_step(connection: Connection, *, step: RecordStep) -> None:
    """Another service's step on the referral's timeline (the referral itself unchanged)."""
    if not await timeline_repository.add_timeline_entry_if_known(
        connection,
        referral_id=step.referral_id,
        event_code=step.event.value,
        occurred_at=step.occurred_at,
        source=step.source,
        message_id=step.message_id,
        detail=step.detail,
    ):
        raise ReferralNotFound(step.referral_id)
