"""What the telemedicine use-case tests share: the consult workflow's context (the default
escalation ladder: backup at 5 min, stroke lead at 10, failed at 15), and the referral service's
referral-requested message as it reaches telemedicine."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.notifier.adapters.communication_messages import acknowledged_message
from services.notifier.domain.model import Channel, Delivery
from services.referral.adapters.fhir_mapping import referral_requested_message
from services.referral.domain.commands import RequestReferral
from services.telemedicine.domain.escalation import EscalationLadder
from services.telemedicine.service.context import TelemedicineContext
from shared.fhir.envelope import FhirMessage

CONTEXT = TelemedicineContext(
    source_endpoint="https://fasttrack.test/telemedicine/fhir",
    public_url="https://fasttrack.test/telemedicine",
    ladder=EscalationLadder(
        consultant_role="stroke-neurologist",
        stroke_lead_role="stroke-lead",
        backup_after=timedelta(minutes=5),
        stroke_lead_after=timedelta(minutes=10),
        fail_after=timedelta(minutes=15),
    ),
)


def referral_requested(
    *, spoke: str, hub: str, id_prefix: str, teleconsult: bool = True
) -> tuple[FhirMessage, str]:
    """referral-requested for a new referral from ``spoke`` to ``hub`` asked a minute ago
    (asking for a teleconsult unless told not to), and the referral's id."""
    now = datetime.now(UTC)
    request = RequestReferral(
        referral_id=f"{id_prefix}-{uuid.uuid4()}",
        request_message_id=str(uuid.uuid4()),
        requester_org=spoke,
        owner_org=hub,
        patient_hn="HN-0001",
        last_known_well=now - timedelta(hours=1),
        nihss=8,
        suspected_lvo=False,
        requested_at=now - timedelta(minutes=1),
        teleconsult_requested=teleconsult,
    )
    message = referral_requested_message(request, source_endpoint="https://fasttrack.test/fhir")
    return message, request.referral_id


def on_call_acknowledgement(referral_id: str, *, request_id: str) -> FhirMessage:
    """The notifier's notification-acknowledged for the on-call consultant's SMS page of
    ``request_id`` (a consult's page request id), acknowledged now."""
    page = Delivery(
        id=str(uuid.uuid4()),
        request_id=f"{uuid.uuid4()}/{request_id}",
        referral_id=referral_id,
        recipient="Practitioner/dr-on-call",
        channel=Channel.SMS,
        priority="stat",
        body={},
    )
    return acknowledged_message(
        page,
        acknowledged_by="Practitioner/dr-on-call",
        at=datetime.now(UTC),
        source_endpoint="https://fasttrack.test/notifier",
    )
