"""Escalation: an alert nobody acknowledged in time goes one step up the ladder (page again,
the team's group, the next channel, the supervisor), each step an event on the referral's
timeline, until someone acknowledges or the ladder ends."""

from __future__ import annotations

from datetime import datetime

from opentelemetry import trace
from opentelemetry.instrumentation.utils import suppress_instrumentation

from services.notifier.adapters import communication_messages, fhir_mapping, repository
from services.notifier.domain.contacts import ContactBook
from services.notifier.domain.directory import ContactPoint
from services.notifier.domain.model import Delivery
from shared.db.pool import Connection
from shared.messaging.outbox import add_to_outbox
from shared.messaging.topics import NOTIFICATION_OUTCOMES
from shared.tracing import carried_context

_tracer = trace.get_tracer(__name__)


async def escalate(
    connection: Connection, *, unanswered: Delivery, contacts: ContactBook, source_endpoint: str
) -> Delivery | None:
    """Sends the next step for ``unanswered``; None when acknowledged or the ladder is done.
    A span of the referral's trace, with the step taken as its event."""
    with _tracer.start_as_current_span(
        "notifier escalate", context=carried_context(unanswered.trace_context)
    ) as span:
        span.set_attribute("fasttrack.delivery.id", unanswered.id)
        escalation = await _escalate(
            connection, unanswered=unanswered, contacts=contacts, source_endpoint=source_endpoint
        )
        if escalation is None:
            span.add_event("not escalated", {"why": "acknowledged, or no step left"})
        else:
            span.add_event(
                "escalated",
                {"step": escalation.escalation_step, "channel": escalation.channel.value},
            )
        return escalation


async def _escalate(
    connection: Connection, *, unanswered: Delivery, contacts: ContactBook, source_endpoint: str
) -> Delivery | None:
    await repository.mark_escalated(connection, delivery_id=unanswered.id)
    if await repository.chain_acknowledged(connection, delivery=unanswered):
        return None
    ladder = contacts.escalation.ladder
    first = ContactPoint(unanswered.channel, unanswered.address)
    # Steps a hospital has not configured (no group, no supervisor) are passed over.
    for number in range(unanswered.escalation_step, len(ladder)):
        step = ladder[number]
        target = contacts.escalation_target(
            step=step,
            recipient=unanswered.recipient,
            first=first,
            hospital=unanswered.hospital,
            role=unanswered.role,
        )
        if target is None:
            continue
        recipient, contact = target
        base_request = unanswered.request_id.split("#")[0]
        escalation = fhir_mapping.follow_up(
            unanswered,
            contact=contact,
            recipient=recipient,
            request_id=f"{base_request}#esc{number + 1}",
            body=fhir_mapping.in_language(unanswered.body, contacts.language(recipient)),
            escalation_step=number + 1,
        )
        if not await repository.insert_delivery(connection, delivery=escalation):
            # Two people on call, both silent: the group is paged once, and one chain goes on.
            return None
        await add_to_outbox(
            connection,
            topic=NOTIFICATION_OUTCOMES,
            key=unanswered.referral_id,
            message=communication_messages.escalated_message(
                escalation, step=step.value, source_endpoint=source_endpoint
            ),
        )
        return escalation
    return None


async def escalate_overdue(
    connection: Connection, *, contacts: ContactBook, now: datetime, source_endpoint: str
) -> list[tuple[Delivery, Delivery]]:
    """Every alert sent before ``now`` minus the directory's ``ack_within`` that nobody has
    acknowledged goes one step up (in the caller's transaction; concurrent watchers skip the
    alerts another holds). Returns each unanswered alert with the delivery that escalated it."""
    sent_before = now - contacts.escalation.ack_within
    with suppress_instrumentation():  # a poll; each escalation is an event of its own
        due = await repository.unacknowledged_alerts(connection, sent_before=sent_before)
    escalated = []
    for unanswered in due:
        escalation = await escalate(
            connection, unanswered=unanswered, contacts=contacts, source_endpoint=source_endpoint
        )
        if escalation is not None:
            escalated.append((unanswered, escalation))
    return escalated
