"""Notification requests and outcomes <-> FHIR R4B (CommunicationRequest in, Communication out)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from services.notifier.domain.contacts import ContactBook, ContactPoint
from services.notifier.domain.model import Delivery
from shared.fhir import codes
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage, build_message
from shared.fhir.models import Communication, CommunicationRequest
from shared.fhir.notifications import payload_texts
from shared.messaging.consumer import PermanentMessageError

CHANNEL_SYSTEM = f"{codes.PROJECT_CANONICAL}/CodeSystem/notification-channel"


# Alerts someone must confirm they saw (DOMAIN.md: stroke alerts); the rest are informative.
NEEDS_ACKNOWLEDGEMENT = frozenset({"stroke-alert", "time-alert", "teleconsult-request"})
_LINK = re.compile(r"Open: (\S+)$")


def deliveries_from_request(
    message: FhirMessage, *, contacts: ContactBook, trace_context: dict[str, str]
) -> list[Delivery]:
    """One delivery per recipient and first contact point of the CommunicationRequest."""
    request = message.focus_resource(CommunicationRequest)
    if request is None:
        raise PermanentMessageError("notification-requested needs a CommunicationRequest focus")
    referral = next(
        (
            a.reference
            for a in request.about or []
            if a.reference and a.reference.startswith("Task/")
        ),
        None,
    )
    if referral is None:
        raise PermanentMessageError("CommunicationRequest.about must reference the referral Task")
    recipients = [r.reference for r in request.recipient or [] if r.reference]
    if not recipients:
        raise PermanentMessageError("CommunicationRequest.recipient is empty")
    texts = payload_texts(request)
    english = texts.get("en", "")
    link = _LINK.search(english)
    categories = {c.code for concept in request.category or [] for c in concept.coding or []}
    request_id = f"{message.message_id}/{request.id}"
    referral_id = referral.removeprefix("Task/")
    body = {
        "referral": referral_id,
        "priority": request.priority or "routine",
        "text": english,
        "needs_ack": bool(categories & NEEDS_ACKNOWLEDGEMENT),
        **({"link": link.group(1)} if link else {}),
    }
    return [
        delivery_for(
            request_id=request_id,
            referral_id=referral_id,
            recipient=recipient,
            contact=contact,
            priority=request.priority or "routine",
            # In the hospital's language when the request carries it (Thai or English).
            body={**body, "text": texts.get(contacts.language(recipient), english)},
            trace_context=trace_context,
        )
        for recipient in recipients
        for contact in contacts.first_contacts(recipient)
    ]


def delivery_for(
    *,
    request_id: str,
    referral_id: str,
    recipient: str,
    contact: ContactPoint,
    priority: str,
    body: dict[str, Any],
    trace_context: dict[str, str],
    escalation_step: int = 0,
) -> Delivery:
    return Delivery(
        id=Delivery.delivery_id(
            request_id=request_id, recipient=recipient, channel=contact.channel
        ),
        request_id=request_id,
        referral_id=referral_id,
        recipient=recipient,
        channel=contact.channel,
        priority=priority,
        body={**body, "recipient": recipient},
        address=contact.address,
        escalation_step=escalation_step,
        trace_context=trace_context,
    )


def outcome_message(
    delivery: Delivery, *, sent: bool, reason: str | None, source_endpoint: str
) -> FhirMessage:
    return _communication_event(
        EventCode.NOTIFICATION_SENT if sent else EventCode.NOTIFICATION_FAILED,
        delivery,
        communication_id=f"com-{delivery.id}",
        status="completed" if sent else "not-done",
        details={
            **({"statusReason": {"text": reason}} if reason else {}),
            "priority": delivery.priority,
            **({"sent": datetime.now(UTC).isoformat()} if sent else {}),
        },
        source_endpoint=source_endpoint,
    )


def acknowledged_message(
    delivery: Delivery, *, acknowledged_by: str, at: datetime, source_endpoint: str
) -> FhirMessage:
    """notification-acknowledged: who confirmed the alert, when, on which channel."""
    return _communication_event(
        EventCode.NOTIFICATION_ACKNOWLEDGED,
        delivery,
        communication_id=f"ack-{delivery.id}",
        status="completed",
        details={
            "received": at.isoformat(),
            "note": [{"text": f"acknowledged by {acknowledged_by}"}],
        },
        source_endpoint=source_endpoint,
    )


def escalated_message(escalation: Delivery, *, step: str, source_endpoint: str) -> FhirMessage:
    """notification-escalated: nobody acknowledged an alert; ``escalation`` goes out."""
    return _communication_event(
        EventCode.NOTIFICATION_ESCALATED,
        escalation,
        communication_id=f"esc-{escalation.id}",
        status="in-progress",
        details={"note": [{"text": f"escalation step {escalation.escalation_step}: {step}"}]},
        source_endpoint=source_endpoint,
    )


def _communication_event(
    event: EventCode,
    delivery: Delivery,
    *,
    communication_id: str,
    status: str,
    details: dict[str, Any],
    source_endpoint: str,
) -> FhirMessage:
    """A Communication about the delivery's referral, to its recipient on its channel: how the
    referral's timeline learns who was told, and who answered."""
    communication = Communication.model_validate(
        {
            "resourceType": "Communication",
            "id": communication_id,
            "status": status,
            "about": [{"reference": f"Task/{delivery.referral_id}"}],
            "recipient": [{"reference": delivery.recipient}],
            "medium": [{"coding": [{"system": CHANNEL_SYSTEM, "code": delivery.channel.value}]}],
            **details,
        }
    )
    return build_message(
        event=event,
        sender=codes.NETWORK_ORGANIZATION,
        destinations=[],
        focus=[communication],
        source_endpoint=source_endpoint,
    )
