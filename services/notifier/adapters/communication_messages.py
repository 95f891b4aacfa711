"""What the notifier tells the network about its deliveries: FHIR R4B Communications, one per
outcome (sent, failed, delivered, acknowledged, escalated) and one when nobody could be reached
for a request. The referral's timeline learns from them who was told and who answered; the
request's sender (e.g. telemedicine's ladder) acts on a failure. Requests come in through
``fhir_mapping``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.notifier.adapters.fhir_mapping import CHANNEL_SYSTEM, request_resource_id
from services.notifier.domain.model import Delivery
from shared.fhir import codes
from shared.fhir.codes import WEB_USER_SYSTEM, EventCode
from shared.fhir.envelope import FhirMessage, ResourceJson, build_message
from shared.fhir.ids import derived_id
from shared.fhir.notifications import failure_reason
from shared.vocabulary.notification_failures import NotificationFailure


def outcome_message(
    delivery: Delivery, *, sent: bool, reason: str | None, source_endpoint: str
) -> FhirMessage:
    return _communication_event(
        EventCode.NOTIFICATION_SENT if sent else EventCode.NOTIFICATION_FAILED,
        delivery,
        communication_id=f"com-{delivery.id}",
        status="completed" if sent else "not-done",
        details={
            **({} if sent else {"statusReason": _delivery_failed(reason)}),
            "priority": delivery.priority,
            **({"sent": datetime.now(UTC).isoformat()} if sent else {}),
        },
        source_endpoint=source_endpoint,
    )


def _delivery_failed(reason: str | None) -> dict[str, Any]:
    """One delivery's failure (the recipient's next channel, or another recipient, may follow)."""
    return failure_reason(NotificationFailure.DELIVERY_FAILED, reason or "")


def nobody_reached_message(
    *,
    request_id: str,
    referral_id: str,
    addressed: list[str],
    priority: str,
    reason: str,
    source_endpoint: str,
) -> FhirMessage:
    """notification-failed for the request as a whole (statusReason nobody-reached): it named
    nobody the notifier can reach, or every channel of every recipient failed for good. No
    medium: no one channel failed. Its sender (e.g. telemedicine's ladder) acts on it at once."""
    communication: ResourceJson = {
        "resourceType": "Communication",
        "id": derived_id("nobody-", request_id),
        "status": "not-done",
        "statusReason": failure_reason(NotificationFailure.NOBODY_REACHED, reason),
        "basedOn": [{"reference": f"CommunicationRequest/{request_resource_id(request_id)}"}],
        "about": [{"reference": f"Task/{referral_id}"}],
        **({"recipient": [{"reference": r} for r in addressed]} if addressed else {}),
        "priority": priority,
    }
    return build_message(
        event=EventCode.NOTIFICATION_FAILED,
        sender=codes.NETWORK_ORGANIZATION,
        destinations=[],
        focus=[communication],
        source_endpoint=source_endpoint,
    )


def delivered_message(delivery: Delivery, *, at: datetime, source_endpoint: str) -> FhirMessage:
    """notification-delivered: the message reached the recipient's phone or an open page."""
    return _communication_event(
        EventCode.NOTIFICATION_DELIVERED,
        delivery,
        communication_id=f"rcv-{delivery.id}",
        status="completed",
        details={"received": at.isoformat(), "priority": delivery.priority},
        source_endpoint=source_endpoint,
    )


def acknowledged_message(
    delivery: Delivery,
    *,
    acknowledged_by: str,
    at: datetime,
    source_endpoint: str,
    person: tuple[str, str | None] | None = None,
) -> FhirMessage:
    """notification-acknowledged: who confirmed the alert, when, on which channel. ``person``
    (name, web app user id or None): the person who did, named as the answer's sender (as the
    board's answer names them, shared/fhir/answered_alerts.py) for the referral's timeline."""
    answered_by: dict[str, Any] = {}
    if person is not None:
        name, user_id = person
        # (FHIR has no empty strings: an element without a value is left out.)
        sender = {
            **({"display": name} if name else {}),
            **({"identifier": {"system": WEB_USER_SYSTEM, "value": user_id}} if user_id else {}),
        }
        answered_by = {"sender": sender} if sender else {}
    return _communication_event(
        EventCode.NOTIFICATION_ACKNOWLEDGED,
        delivery,
        communication_id=f"ack-{delivery.id}",
        status="completed",
        details={
            "received": at.isoformat(),
            "note": [{"text": f"acknowledged by {acknowledged_by}"}],
            **answered_by,
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
    referral's timeline learns who was told, and who answered. Written as FHIR JSON, as it is
    (one goes out for every delivery; the test suite parses every built message back)."""
    communication: ResourceJson = {
        "resourceType": "Communication",
        "id": communication_id,
        "status": status,
        # The request it answers: how its producer (e.g. telemedicine) tells its pages apart.
        "basedOn": [
            {"reference": f"CommunicationRequest/{request_resource_id(delivery.request_id)}"}
        ],
        "about": [{"reference": f"Task/{delivery.referral_id}"}],
        # Who was reached, then whom the request named (the hospital or role) when different.
        "recipient": [
            {"reference": reference}
            for reference in dict.fromkeys([delivery.recipient, delivery.addressed_to])
            if reference
        ],
        "medium": [{"coding": [{"system": CHANNEL_SYSTEM, "code": delivery.channel.value}]}],
        **details,
    }
    return build_message(
        event=event,
        sender=codes.NETWORK_ORGANIZATION,
        destinations=[],
        focus=[communication],
        source_endpoint=source_endpoint,
    )
