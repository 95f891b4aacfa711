"""A hospital answered its alerts about a referral outside the notifier: someone of the hospital
acknowledged the referral on the clinicians' board. The referral service tells the notifier
(``notification-acknowledged`` on the notification-requests topic: a Communication, completed,
about the referral Task, for the hospital whose alerts it answers, from the person), and the
notifier stops repeating and escalating those alerts, as when one is acknowledged by its link.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from shared.errors import InvalidInput
from shared.fhir import references
from shared.fhir.codes import EventCode, organization_reference
from shared.fhir.envelope import FhirMessage, ResourceJson, build_message
from shared.fhir.models import Communication


@dataclass(frozen=True, kw_only=True)
class AnsweredAlerts:
    referral_id: str
    # The hospital whose alerts about the referral are answered.
    hospital_id: str
    # Who answered (a person's name as the web app shows it), and when.
    acknowledged_by: str
    at: datetime


def answered_alerts_message(answered: AnsweredAlerts, *, source_endpoint: str) -> FhirMessage:
    hospital = organization_reference(answered.hospital_id)
    communication: ResourceJson = {
        "resourceType": "Communication",
        "id": f"answered-{uuid.uuid4()}",
        "status": "completed",
        "about": [{"reference": f"Task/{answered.referral_id}"}],
        "recipient": [{"reference": hospital}],
        "sender": {"display": answered.acknowledged_by},
        "received": answered.at.isoformat(),
    }
    return build_message(
        event=EventCode.NOTIFICATION_ACKNOWLEDGED,
        sender=hospital,
        destinations=[hospital],
        focus=[communication],
        source_endpoint=source_endpoint,
    )


def answered_alerts_from(message: FhirMessage) -> AnsweredAlerts:
    """Reads the message; raises InvalidInput when it is not an answer of the sender's alerts."""
    communication = message.focus_resource(Communication)
    if communication is None:
        raise InvalidInput("notification-acknowledged needs a Communication as its focus")
    tasks = [a.reference for a in communication.about or [] if a.reference]
    referral = next((ref for ref in tasks if ref.startswith("Task/")), None)
    recipients = [references.organization_id(r.reference) for r in communication.recipient or []]
    sender = references.organization_id(message.sender)
    if referral is None or not communication.received or sender is None:
        raise InvalidInput("notification-acknowledged needs the Task it is about and when")
    if recipients != [sender]:
        raise InvalidInput("A hospital answers only its own alerts")
    person = communication.sender.display if communication.sender else None
    received = communication.received
    return AnsweredAlerts(
        referral_id=referral.removeprefix("Task/"),
        hospital_id=sender,
        acknowledged_by=str(person or message.sender),
        at=received if isinstance(received, datetime) else datetime.fromisoformat(str(received)),
    )
