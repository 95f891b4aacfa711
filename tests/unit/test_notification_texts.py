"""Notifications carry Thai and English and, apart from both, the link; the notifier picks the
hospital's language and passes the link on as it came."""

from __future__ import annotations

import json

from services.notifier.adapters.contacts_document import directory_from
from services.notifier.adapters.fhir_mapping import deliveries_from_request
from shared.fhir.codes import EventCode
from shared.fhir.envelope import build_message, parse_message
from shared.fhir.models import CommunicationRequest
from shared.fhir.notifications import bilingual_payload, payload_texts


def _request(recipient: str) -> CommunicationRequest:
    return CommunicationRequest.model_validate(
        {
            "resourceType": "CommunicationRequest",
            "id": "cr-1",
            "status": "active",
            "priority": "stat",
            "about": [{"reference": "Task/r-1"}],
            "recipient": [{"reference": recipient}],
            "payload": bilingual_payload(
                english="Stroke referral from Sikao Hospital.",
                thai="ส่งต่อผู้ป่วย stroke จาก Sikao Hospital",
                link="https://ft.example/r/r-1",
            ),
        }
    )


def test_texts_survive_the_wire_in_both_languages() -> None:
    message = build_message(
        event=EventCode.NOTIFICATION_REQUESTED,
        sender="Organization/sikao-hospital",
        destinations=["Organization/trang-hospital"],
        focus=[_request("Organization/trang-hospital")],
        source_endpoint="urn:test",
    )
    received = parse_message(json.loads(message.to_json()))
    request = received.focus_resource(CommunicationRequest)
    assert request is not None
    texts = payload_texts(request)
    assert texts["en"].startswith("Stroke referral")
    assert texts["th"].startswith("ส่งต่อผู้ป่วย stroke")


def test_each_hospital_gets_its_language_and_the_link() -> None:
    book = directory_from({"hospitals": {"ratsada-hospital": {"language": "th", "webhook": True}}})
    for recipient, expected in (
        ("Organization/ratsada-hospital", "ส่งต่อผู้ป่วย stroke"),
        ("Organization/trang-hospital", "Stroke referral"),
    ):
        message = build_message(
            event=EventCode.NOTIFICATION_REQUESTED,
            sender="Organization/sikao-hospital",
            destinations=[recipient],
            focus=[_request(recipient)],
            source_endpoint="urn:test",
        )
        # The hospital system's webhook copy and the live event on the hospital's web pages.
        deliveries = deliveries_from_request(message, contacts=book, trace_context={})
        assert {d.channel.value for d in deliveries} == {"webhook", "in-app"}
        for delivery in deliveries:
            assert delivery.body["text"].startswith(expected)
            assert delivery.body["link"] == "https://ft.example/r/r-1"


def test_bidirectional_overrides_in_a_decline_reason_never_reach_a_person() -> None:
    # "Declined (RLO)kcab llac(PDF)": shown as "call back" reversed into something else.
    hidden = "Declined: \u202ekcab llac\u202c, no CT \u2066today\u2069"
    request = CommunicationRequest.model_validate(
        {
            "resourceType": "CommunicationRequest",
            "id": "cr-bidi",
            "status": "active",
            "payload": bilingual_payload(english=hidden, thai=hidden),
        }
    )
    texts = payload_texts(request)
    assert texts == {"en": "Declined: kcab llac, no CT today", "th": texts["en"]}


def test_a_link_written_in_the_text_is_never_taken_for_the_link() -> None:
    request = CommunicationRequest.model_validate(
        {
            "resourceType": "CommunicationRequest",
            "id": "cr-text-link",
            "status": "active",
            "about": [{"reference": "Task/r-1"}],
            "recipient": [{"reference": "Organization/trang-hospital"}],
            "payload": bilingual_payload(
                english="Stroke referral. Open: https://elsewhere.example/x", thai="ส่งต่อ"
            ),
        }
    )
    message = build_message(
        event=EventCode.NOTIFICATION_REQUESTED,
        sender="Organization/sikao-hospital",
        destinations=["Organization/trang-hospital"],
        focus=[request],
        source_endpoint="urn:test",
    )
    book = directory_from({"hospitals": {}})
    deliveries = deliveries_from_request(message, contacts=book, trace_context={})
    assert deliveries
    assert all("link" not in d.body for d in deliveries)
