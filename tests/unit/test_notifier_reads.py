"""The notifier reads a notification request from the relayed record's JSON: no model of the
CommunicationRequest is made for each page, and what it reads (whom to reach, on which channel,
in which language, with which link) is what the validated request says."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import BaseModel

from services.notifier.adapters.fhir_mapping import deliveries_from_request
from services.notifier.domain.model import Channel, Delivery
from shared.fhir import envelope
from shared.fhir.codes import NOTIFICATION_CATEGORY_SYSTEM, EventCode
from shared.fhir.envelope import FhirMessage, build_message, parse_message, read_relayed_message
from shared.fhir.notifications import bilingual_payload, notification_request_message
from shared.vocabulary.notification_categories import NotificationCategory
from tests.kafka_records import count_validations
from tests.unit.test_contacts import BOOK

MOMENT = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)  # a Monday, 09:30 in the province


@pytest.fixture
def models(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every model made (a pydantic validation: a whole Bundle, an entry, or a part of one)."""
    monkeypatch.setattr(envelope, "CHECK_BUILT_MESSAGES", False)
    return count_validations(monkeypatch, BaseModel)


def _page() -> FhirMessage:
    return notification_request_message(
        request_id="cr-page",
        category=NotificationCategory.STROKE_ALERT,
        referral_id="r-1",
        recipients=["trang-hospital"],
        english="Stroke referral from Sikao Hospital.",
        thai="ส่งต่อผู้ป่วย stroke จาก Sikao Hospital",
        link="https://ft.example/app/referrals/r-1",
        sender="Organization/sikao-hospital",
        source_endpoint="urn:test",
    )


def _reminder() -> FhirMessage:
    """A check-in reminder to a patient at home, who is in no directory: their LINE and phone
    travel in a contained Patient (services/telemedicine/adapters/monitoring_notices.py)."""
    request = {
        "resourceType": "CommunicationRequest",
        "id": "mr-1",
        "contained": [
            {
                "resourceType": "Patient",
                "id": "patient",
                "telecom": [
                    {"system": "sms", "value": "0812345678"},
                    {"system": "other", "value": "line:Upatient"},
                ],
                "communication": [{"language": {"text": "en"}}],
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
        "about": [{"reference": "Task/ep-1"}],
        "recipient": [{"reference": "#patient"}],
        "payload": bilingual_payload(
            english="Your check-in is due.", thai="ถึงเวลาส่งข้อมูล", link="https://ft.example/c/1"
        ),
    }
    return build_message(
        event=EventCode.NOTIFICATION_REQUESTED,
        sender="Organization/trang-hospital",
        destinations=[],
        focus=[request],
        source_endpoint="urn:test",
    )


def _read(message: FhirMessage) -> list[Delivery]:
    return deliveries_from_request(message, contacts=BOOK, trace_context={}, at=MOMENT)


def test_a_relayed_page_is_read_without_a_model(models: list[str]) -> None:
    message = _page()
    relayed = read_relayed_message(message.to_json())
    deliveries = _read(relayed)
    # Was 11: the CommunicationRequest and its payloads, category, references and meta.
    assert models == []
    # The same deliveries as from the request validated whole.
    assert deliveries == _read(parse_message(message.to_json()))
    assert [(d.recipient, d.channel) for d in deliveries] == [
        ("Practitioner/dr-anan", Channel.LINE),
        ("Organization/trang-hospital", Channel.WEBHOOK),
        ("Organization/trang-hospital", Channel.IN_APP),
    ]
    by_channel = {d.channel: d for d in deliveries}
    # The person's own language (English), the hospital's (Thai); the link apart from the text.
    assert by_channel[Channel.LINE].body["text"] == "Stroke referral from Sikao Hospital."
    assert by_channel[Channel.WEBHOOK].body["text"] == "ส่งต่อผู้ป่วย stroke จาก Sikao Hospital"
    assert by_channel[Channel.WEBHOOK].body["link"] == "https://ft.example/app/referrals/r-1"
    assert by_channel[Channel.WEBHOOK].body["category"] == "stroke-alert"
    assert by_channel[Channel.WEBHOOK].priority == "stat"


def test_a_relayed_reminder_reaches_the_contained_patient_without_a_model(
    models: list[str],
) -> None:
    message = _reminder()
    relayed = read_relayed_message(message.to_json())
    deliveries = _read(relayed)
    # Was 16: the request, its contained Patient with its telecoms, payloads and references.
    assert models == []
    assert deliveries == _read(parse_message(message.to_json()))
    (reminder,) = deliveries
    # LINE first, whatever the order the telecom came in; in the patient's language.
    assert (reminder.recipient, reminder.channel, reminder.address) == (
        "Patient/patient",
        Channel.LINE,
        "Upatient",
    )
    assert reminder.body["text"] == "Your check-in is due."
    assert reminder.body["link"] == "https://ft.example/c/1"
