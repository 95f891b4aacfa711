"""What the telemedicine use-case tests share: the consult workflow's context (the default
escalation ladder: backup at 5 min, stroke lead at 10, failed at 15)."""

from __future__ import annotations

from datetime import timedelta

from services.telemedicine.domain.escalation import EscalationLadder
from services.telemedicine.service.context import TelemedicineContext

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
