"""What an operator sees of a dead letter: the message's shape and ids, never the patient (an
allowlist: whatever is not an id, code, state or reference is hidden), only the network's own
headers, and a reason without the value a validator quoted."""

from __future__ import annotations

import json

import pytest

from shared.messaging.dead_letter_browser import parse_address
from shared.messaging.redaction import REDACTED, redacted_headers, redacted_payload
from tests.support import referral_bundle

NAME, CITIZEN_ID, HOSPITAL_NUMBER, NOTE = (
    "Somchai Planted",
    "1234567890121",
    "HN-PLANTED-7",
    "fell at home",
)


def _planted_bundle() -> dict[str, object]:
    bundle, _, _ = referral_bundle(teleconsult=True)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Patient":
            resource["name"] = [{"family": NAME, "given": [NAME]}]
            resource["identifier"] = [
                {"system": "https://www.dopa.go.th/citizen-id", "value": CITIZEN_ID},
                {"system": "urn:hn", "value": HOSPITAL_NUMBER},
            ]
        resource["note"] = [{"text": NOTE}]
        resource["text"] = {"status": "generated", "div": f"<div>{NAME}</div>"}
    return bundle


def test_a_referrals_payload_keeps_its_shape_and_ids_and_hides_the_patient() -> None:
    bundle = _planted_bundle()
    shown = redacted_payload(json.dumps(bundle).encode())
    for planted in (NAME, CITIZEN_ID, HOSPITAL_NUMBER, NOTE):
        assert planted not in shown
    kept = json.loads(shown)
    assert kept["resourceType"] == "Bundle"
    header = kept["entry"][0]["resource"]
    assert header["resourceType"] == "MessageHeader"
    assert header["eventCoding"]["code"] == "referral-requested"
    assert header["sender"]["reference"] == "Organization/sikao-hospital"
    patient = next(
        e["resource"] for e in kept["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    assert patient["name"] == REDACTED
    assert patient["identifier"] == REDACTED


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        (b"", "(empty)"),
        (b"{not json", "(9 bytes, not JSON: not shown)"),
        (f"Patient {NAME}".encode(), "(23 bytes, not JSON: not shown)"),
        (b'"just a string"', '"just a string"'),
    ],
)
def test_a_payload_that_is_not_a_json_document_shows_only_what_it_is(
    body: bytes, shown: str
) -> None:
    assert redacted_payload(body) == shown


def test_only_the_networks_headers_show_and_the_reason_loses_a_quoted_value() -> None:
    shown = redacted_headers(
        {
            "message-id": "m-1",
            "event-code": "referral-requested",
            "x-hospital-note": NAME,
            "dead-letter-reason": (
                "1 validation error for Patient name.0.family "
                f"Input should be a valid string [type=string_type, input_value='{NAME}', "
                "input_type=int]"
            ),
            "dead-letter-source": "fasttrack.hospital.inbound.v1/0/42",
        }
    )
    assert set(shown) == {"message-id", "event-code", "dead-letter-reason", "dead-letter-source"}
    assert NAME not in shown["dead-letter-reason"]
    assert "input_value=…" in shown["dead-letter-reason"]


@pytest.mark.parametrize(
    ("address", "parsed"),
    [
        ("fasttrack.hospital.inbound.v1.dlq/0/42", ("fasttrack.hospital.inbound.v1.dlq", 0, 42)),
        ("fasttrack.referral.events.v1.dlq/2/7", ("fasttrack.referral.events.v1.dlq", 2, 7)),
        # Only a dead-letter topic is ever read for a replay.
        ("fasttrack.referral.events.v1/0/1", None),
        ("fasttrack.referral.events.v1.dlq/x/1", None),
        ("fasttrack.referral.events.v1.dlq/1", None),
        ("", None),
    ],
)
def test_a_dead_letter_is_named_by_its_dead_letter_topic_partition_and_offset(
    address: str, parsed: tuple[str, int, int] | None
) -> None:
    assert parse_address(address) == parsed
