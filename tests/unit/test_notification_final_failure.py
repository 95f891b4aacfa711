"""The notifier's final failure of a request (nobody reached) is told apart from one delivery's
failure by the Communication's coded statusReason (the notification-failure CodeSystem, published
in English and Thai); only the final one names a request whose sender must act now."""

from __future__ import annotations

import json

from services.notifier.adapters import communication_messages
from shared.fhir.codes import EventCode
from shared.fhir.conformance.catalogue import PUBLISHED_CODE_SYSTEMS
from shared.fhir.conformance.notification_failure import (
    NOTIFICATION_FAILURE,
    NOTIFICATION_FAILURE_SYSTEM,
)
from shared.fhir.envelope import parse_message
from shared.fhir.notifications import unreached_request
from shared.vocabulary.notification_failures import NotificationFailure
from tests.delivery_outcomes import every_outcome_of, page_delivery


def _nobody_reached() -> dict[str, object]:
    message = communication_messages.nobody_reached_message(
        request_id="m-1/page-1#esc2",
        referral_id="r-1",
        addressed=["PractitionerRole/trang-hospital.stroke-neurologist"],
        priority="stat",
        reason="every channel of every recipient failed",
        source_endpoint="urn:t",
    )
    # Read back as a consumer reads it off Kafka (strictly parsed).
    return json.loads(message.to_json())  # type: ignore[no-any-return]


def test_the_final_failure_names_the_request_and_says_nobody_was_reached() -> None:
    bundle = _nobody_reached()
    header, communication = (entry["resource"] for entry in bundle["entry"])  # type: ignore[attr-defined]
    assert header["eventCoding"]["code"] == EventCode.NOTIFICATION_FAILED.value
    assert communication["status"] == "not-done"
    assert communication["statusReason"]["coding"] == [
        {
            "system": NOTIFICATION_FAILURE_SYSTEM,
            "code": "nobody-reached",
            "display": "Nobody could be reached",
        }
    ]
    assert communication["basedOn"] == [{"reference": "CommunicationRequest/page-1"}]
    assert communication["recipient"] == [
        {"reference": "PractitionerRole/trang-hospital.stroke-neurologist"}
    ]
    assert "medium" not in communication  # no one channel failed: all of them did
    assert unreached_request(parse_message(json.dumps(bundle).encode())) == "page-1"


def test_one_deliverys_failure_is_coded_as_such_and_names_no_unreached_request() -> None:
    sent, failed, delivered, acknowledged, escalated = every_outcome_of(page_delivery())
    communication = failed.focus_json("Communication")
    assert communication is not None
    assert communication["statusReason"]["coding"][0]["code"] == "delivery-failed"
    assert communication["statusReason"]["text"] == "webhook answered HTTP 500"
    assert communication["medium"][0]["coding"][0]["code"] == "webhook"
    for message in (sent, failed, delivered, acknowledged, escalated):
        assert unreached_request(message) is None


def test_the_failure_codes_are_published_in_english_and_thai() -> None:
    concepts = {concept.code: concept for concept in NOTIFICATION_FAILURE.concepts}
    assert list(concepts) == [failure.value for failure in NotificationFailure]
    assert all(concept.display and concept.thai for concept in concepts.values())
    assert PUBLISHED_CODE_SYSTEMS["notification-failure"] is NOTIFICATION_FAILURE
