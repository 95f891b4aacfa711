"""The first page of a referral's teleconsult: the hub's on-call consultant, paged by the
referral service in the intake's own transaction (the page leaves with the first hop), and
recorded by telemedicine, which owns the consult and its escalation, as the ladder's first rung.

Both services build the page from here, so they agree without asking each other: the consult's
id derives from the referral's, the page's CommunicationRequest id from the consult's and the
rung, and whom it pages from the role both read from one setting
(``FT_TELEMEDICINE_CONSULTANT_ROLE``). The notifier answers an acknowledgement with that request
id, which is how telemedicine finds the consult. docs/architecture.md says why.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.fhir.codes import organization_reference
from shared.fhir.envelope import FhirMessage
from shared.fhir.notifications import notification_request_message
from shared.vocabulary.notification_categories import NotificationCategory
from shared.vocabulary.terms import Language, Term
from shared.workflow.consult_ids import (
    ON_CALL_RUNG,
    page_request_id,
    referral_consult_id,
    role_reference,
)

CONSULT_REQUESTED = Term(
    "Telestroke consult requested.", "ขอปรึกษาแพทย์ระบบประสาททางไกล (telestroke)"
)


def consultant_page(
    *,
    request_id: str,
    referral_id: str,
    requester_org: str,
    paged: str,
    consult_url: str,
    source_endpoint: str,
    notice: Term = CONSULT_REQUESTED,
) -> FhirMessage:
    """notification-requested paging one rung of a consult's ladder (a PractitionerRole the
    notifier resolves from its rosters); no patient data beyond the link."""
    return notification_request_message(
        request_id=request_id,
        category=NotificationCategory.TELECONSULT_REQUEST,
        referral_id=referral_id,
        recipients=[],
        people=[paged],
        english=notice.text(Language.ENGLISH),
        thai=notice.text(Language.THAI),
        link=consult_url,
        sender=organization_reference(requester_org),
        source_endpoint=source_endpoint,
    )


@dataclass(frozen=True)
class OnCallPaging:
    """Where a consult opens and which role of the hub is on call for teleconsults."""

    telemedicine_url: str = "http://127.0.0.1:8002"
    consultant_role: str = "stroke-neurologist"

    def paged(self, hub: str) -> str:
        return role_reference(hub, self.consultant_role)

    def consult_url(self, consult_id: str) -> str:
        return f"{self.telemedicine_url.rstrip('/')}/consults/{consult_id}"

    def first_page(
        self, *, referral_id: str, requester_org: str, hub: str, source_endpoint: str
    ) -> FhirMessage:
        """The on-call page of the teleconsult a new referral asks for."""
        consult_id = referral_consult_id(referral_id)
        return consultant_page(
            request_id=page_request_id(consult_id, ON_CALL_RUNG),
            referral_id=referral_id,
            requester_org=requester_org,
            paged=self.paged(hub),
            consult_url=self.consult_url(consult_id),
            source_endpoint=source_endpoint,
        )
