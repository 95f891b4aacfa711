"""Home-isolation check-ins on LINE, as the seed province ran them: a reminder to a patient
carries quick replies (no symptoms, cough, fever, short of breath, chest pain); the patient's
tap comes back to the webhook as a postback (`check-in:<episode id>:<answer>`), which the
notifier passes on to telemedicine as a monitoring-check-in message (shared/fhir/monitoring.py).
The numbers (SpO2, temperature) are typed in the form the reminder's link opens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from services.notifier.domain.model import Delivery
from shared.fhir.monitoring import SYMPTOM_SNOMED
from shared.vocabulary.notification_categories import NotificationCategory

CHECK_IN_PREFIX = "check-in:"
# (answer, the quick reply's label: LINE allows 20 characters)
ANSWERS = (
    ("none", "ไม่มีอาการ / Well"),
    ("cough", "ไอ / Cough"),
    ("fever", "มีไข้ / Fever"),
    ("dyspnoea", "หายใจเหนื่อย"),
    ("chest-pain", "เจ็บหน้าอก"),
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def check_in_quick_reply(delivery: Delivery) -> dict[str, Any] | None:
    """The quick replies of a check-in reminder to a patient; None for any other message."""
    if delivery.body.get("category") != NotificationCategory.HOME_MONITORING.value:
        return None
    if not delivery.recipient.startswith("Patient/"):
        return None  # the nurses' alert of a missed check-in: nothing to answer
    return {
        "items": [
            {
                "type": "action",
                "action": {
                    "type": "postback",
                    "label": label,
                    "data": f"{CHECK_IN_PREFIX}{delivery.referral_id}:{answer}",
                    "displayText": label,
                },
            }
            for answer, label in ANSWERS
        ]
    }


@dataclass(frozen=True, kw_only=True)
class LineCheckIn:
    episode_id: str
    answer: str
    # The LINE user who tapped (telemedicine checks it is the episode's), and LINE's event id.
    user_id: str
    event_id: str
    at: datetime


def check_ins_in(body: dict[str, Any]) -> list[LineCheckIn]:
    """The check-in postbacks of a webhook body from a user (not a group); others ignored."""
    events = body.get("events")
    found: list[LineCheckIn] = []
    for event in events if isinstance(events, list) else []:
        if not isinstance(event, dict) or event.get("type") != "postback":
            continue
        postback = event.get("postback")
        data = postback.get("data") if isinstance(postback, dict) else None
        if not isinstance(data, str) or not data.startswith(CHECK_IN_PREFIX):
            continue
        episode_id, _, answer = data.removeprefix(CHECK_IN_PREFIX).rpartition(":")
        source = event.get("source")
        user_id = source.get("userId") if isinstance(source, dict) else None
        event_id = event.get("webhookEventId")
        timestamp = event.get("timestamp")
        if (
            not episode_id
            or answer not in SYMPTOM_SNOMED
            or not isinstance(user_id, str)
            or not user_id
            or not isinstance(event_id, str)
            or not event_id
            or not isinstance(timestamp, int)
            or isinstance(timestamp, bool)
        ):
            continue
        found.append(
            LineCheckIn(
                episode_id=episode_id,
                answer=answer,
                user_id=user_id,
                event_id=event_id,
                at=_EPOCH + timedelta(milliseconds=timestamp),
            )
        )
    return found
