"""What monitoring asks the notifier to send: the patient's reminder of a check-in (to their
own LINE or phone, with their signed link) and the nurses' alert of a missed one (to the
managing hospital, with its board). PDPA: the texts carry no name; the nurses' alert names the
hospital number, as the network's alerts do."""

from __future__ import annotations

from datetime import UTC, datetime

from services.telemedicine.adapters.wording import NOTICES, Notice
from services.telemedicine.domain.episode import Episode
from shared.fhir.codes import NOTIFICATION_CATEGORY_SYSTEM, EventCode, organization_reference
from shared.fhir.envelope import FhirMessage, build_message
from shared.fhir.ids import derived_id
from shared.fhir.models import CommunicationRequest
from shared.fhir.notifications import bilingual_payload, notification_request_message
from shared.vocabulary.notification_categories import NotificationCategory
from shared.vocabulary.terms import Language

# The patient is in no directory: the request carries how to reach them, as a contained
# Patient's telecom (a LINE user id as system "other" with this prefix, a phone as "sms").
LINE_ADDRESS_PREFIX = "line:"
CONTAINED_PATIENT = "patient"


def _due_key(episode: Episode) -> str:
    return episode.next_check_in.astimezone(UTC).strftime("%Y%m%d%H%M")


def reminder(episode: Episode, *, link: str, source_endpoint: str) -> FhirMessage:
    """To the patient (or caregiver): a check-in is due; the link opens their own form."""
    telecom = [
        *(
            [{"system": "other", "value": f"{LINE_ADDRESS_PREFIX}{episode.line_user}"}]
            if episode.line_user
            else []
        ),
        *([{"system": "sms", "value": episode.phone}] if episode.phone else []),
    ]
    term = NOTICES[Notice.CHECK_IN_REMINDER]
    request = CommunicationRequest.model_validate(
        {
            "resourceType": "CommunicationRequest",
            "id": derived_id("mr-", f"{episode.id}-{_due_key(episode)}"),
            "contained": [
                {
                    "resourceType": "Patient",
                    "id": CONTAINED_PATIENT,
                    "telecom": telecom,
                    "communication": [{"language": {"text": episode.language}}],
                }
            ],
            "status": "active",
            "priority": "routine",
            "category": [
                {
                    "coding": [
                        {
                            "system": NOTIFICATION_CATEGORY_SYSTEM,
                            "code": NotificationCategory.HOME_MONITORING.value,
                        }
                    ]
                }
            ],
            "about": [{"reference": f"Task/{episode.id}"}],
            "recipient": [{"reference": f"#{CONTAINED_PATIENT}"}],
            "authoredOn": datetime.now(UTC).isoformat(),
            "payload": bilingual_payload(
                english=term.text(Language.ENGLISH),
                thai=term.text(Language.THAI),
                link=link,
            ),
        }
    )
    return build_message(
        event=EventCode.NOTIFICATION_REQUESTED,
        sender=organization_reference(episode.hospital),
        destinations=[],
        focus=[request],
        source_endpoint=source_endpoint,
    )


def missed_check_in_alert(episode: Episode, *, link: str, source_endpoint: str) -> FhirMessage:
    """To the managing hospital's nurses: the patient missed the check-in due at its time."""
    term = NOTICES[Notice.CHECK_IN_MISSED]
    return notification_request_message(
        request_id=derived_id("mm-", f"{episode.id}-{_due_key(episode)}"),
        category=NotificationCategory.HOME_MONITORING,
        referral_id=episode.id,
        recipients=[episode.hospital],
        english=f"{term.text(Language.ENGLISH)} HN {episode.hospital_number}",
        thai=f"{term.text(Language.THAI)} HN {episode.hospital_number}",
        link=link,
        sender=organization_reference(episode.hospital),
        source_endpoint=source_endpoint,
    )
