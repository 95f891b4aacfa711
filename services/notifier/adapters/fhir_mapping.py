"""Notification requests and outcomes <-> FHIR R4B (CommunicationRequest in, Communication out)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.notifier.domain.model import Channel, Delivery
from shared.fhir import codes
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage, build_message
from shared.fhir.models import Communication, CommunicationRequest
from shared.messaging.consumer import PermanentMessageError

CHANNEL_SYSTEM = f"{codes.PROJECT_CANONICAL}/CodeSystem/notification-channel"


def deliveries_from_request(
    message: FhirMessage, *, trace_context: dict[str, str]
) -> list[Delivery]:
    """One delivery per recipient (and channel) of the CommunicationRequest in focus."""
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
    text = " ".join(p.contentString for p in request.payload or [] if p.contentString)
    request_id = f"{message.message_id}/{request.id}"
    referral_id = referral.removeprefix("Task/")
    return [
        Delivery(
            id=Delivery.delivery_id(request_id=request_id, recipient=recipient, channel=channel),
            request_id=request_id,
            referral_id=referral_id,
            recipient=recipient,
            channel=channel,
            priority=request.priority or "routine",
            body={
                "referral": referral_id,
                "recipient": recipient,
                "priority": request.priority or "routine",
                "text": text,
            },
            trace_context=trace_context,
        )
        for recipient in recipients
        for channel in (Channel.WEBHOOK,)
    ]


def outcome_message(
    delivery: Delivery, *, sent: bool, reason: str | None, source_endpoint: str
) -> FhirMessage:
    communication = Communication.model_validate(
        {
            "resourceType": "Communication",
            "id": f"com-{delivery.id}",
            "status": "completed" if sent else "not-done",
            **({"statusReason": {"text": reason}} if reason else {}),
            "about": [{"reference": f"Task/{delivery.referral_id}"}],
            "recipient": [{"reference": delivery.recipient}],
            "medium": [{"coding": [{"system": CHANNEL_SYSTEM, "code": delivery.channel.value}]}],
            "priority": delivery.priority,
            **({"sent": datetime.now(UTC).isoformat()} if sent else {}),
        }
    )
    return build_message(
        event=EventCode.NOTIFICATION_SENT if sent else EventCode.NOTIFICATION_FAILED,
        sender=codes.NETWORK_ORGANIZATION,
        destinations=[],
        focus=[communication],
        source_endpoint=source_endpoint,
    )
