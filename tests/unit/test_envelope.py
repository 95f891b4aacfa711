"""The FHIR message envelope: what we emit parses, and bad input is refused with its reason."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from shared.fhir.codes import EVENT_SYSTEM, PROJECT_CANONICAL, EventCode
from shared.fhir.envelope import InvalidMessage, build_message, parse_message
from shared.fhir.ids import derived_id, is_valid_id, suffixed_id
from shared.fhir.models import Bundle, Task

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "referral-requested.json"


def _task() -> Task:
    return Task.model_validate(
        {"resourceType": "Task", "id": "r-1", "status": "requested", "intent": "order"}
    )


def test_built_message_has_header_first_with_event_sender_destination_and_focus() -> None:
    message = build_message(
        event=EventCode.REFERRAL_REQUESTED,
        sender="Organization/sikao-hospital",
        destinations=["Organization/trang-hospital"],
        focus=[_task()],
        source_endpoint="urn:test",
    )
    document = json.loads(message.to_json())
    header = document["entry"][0]["resource"]
    assert document["type"] == "message"
    assert header["resourceType"] == "MessageHeader"
    assert header["eventCoding"] == {
        "system": EVENT_SYSTEM,
        "code": "referral-requested",
        "display": "Referral requested",
    }
    assert "eventUri" not in header
    assert header["sender"] == {"reference": "Organization/sikao-hospital"}
    assert header["destination"][0]["receiver"] == {"reference": "Organization/trang-hospital"}
    assert header["focus"] == [{"reference": "Task/r-1"}]
    assert message.focus_resource(Task) is not None
    # Valid R4B, checked by fhir.resources independently of our parser.
    Bundle.model_validate(document)


def test_a_broadcast_without_destination_or_focus_has_no_empty_arrays() -> None:
    # FHIR forbids empty arrays; the HL7 validator refused every notification outcome (no
    # destination) and error answer (no focus) while the envelope wrote them as [].
    message = build_message(
        event=EventCode.NOTIFICATION_SENT,
        sender="Organization/network",
        destinations=[],
        focus=[],
        source_endpoint="urn:test",
    )
    header = json.loads(message.to_json())["entry"][0]["resource"]

    assert "destination" not in header
    assert "focus" not in header
    assert message.destinations == ()
    assert message.focus == ()


def test_response_message_points_at_the_request() -> None:
    response = build_message(
        event=EventCode.REFERRAL_REQUESTED,
        sender="Organization/trang-hospital",
        destinations=["Organization/sikao-hospital"],
        focus=[_task()],
        source_endpoint="urn:test",
        response_to=("request-header-id", "ok"),
    )
    assert response.response_to == "request-header-id"
    assert response.header.response is not None
    assert response.header.response.code == "ok"


def test_example_referral_parses() -> None:
    message = parse_message(EXAMPLE.read_bytes())
    assert message.event is EventCode.REFERRAL_REQUESTED
    assert message.sender == "Organization/sikao-hospital"
    assert message.destinations == ("Organization/trang-hospital",)
    assert message.focus == ("Task/example-referral-0001",)


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("truncated.json", "Body is not valid JSON"),
        ("not-fhir.json", "Not a FHIR resource"),
        ("patient.json", "Expected a Bundle of type 'message', got a Patient"),
        ("collection-bundle.json", "Bundle.type must be 'message', got 'collection'"),
        ("no-message-header.json", "first entry of a message Bundle must be a MessageHeader"),
        ("unknown-event.json", "Unknown event code 'patient-teleported'"),
    ],
)
def test_bad_input_is_refused_with_a_reason(fixture: str, reason: str) -> None:
    with pytest.raises(InvalidMessage) as refused:
        parse_message((FIXTURES / "invalid" / fixture).read_bytes())
    assert reason in refused.value.reason


def test_structural_errors_name_the_element_but_never_echo_values() -> None:
    document = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    patient = next(e for e in document["entry"] if e["resource"]["resourceType"] == "Patient")
    patient["resource"]["birthDate"] = "SECRET-NOT-A-DATE"
    with pytest.raises(InvalidMessage) as refused:
        parse_message(json.dumps(document))
    assert "birthDate" in refused.value.reason
    assert "SECRET" not in refused.value.reason


def test_focus_must_be_in_the_bundle() -> None:
    document = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    document["entry"][0]["resource"]["focus"] = [{"reference": "Task/elsewhere"}]
    with pytest.raises(InvalidMessage, match="not an entry of the Bundle"):
        parse_message(json.dumps(document))


def test_header_without_sender_is_refused() -> None:
    document = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    del document["entry"][0]["resource"]["sender"]
    with pytest.raises(InvalidMessage, match="sender is required"):
        parse_message(json.dumps(document))


def test_every_entry_has_a_restful_full_url_so_relative_references_resolve_by_the_r4b_rules() -> (
    None
):
    message = build_message(
        event=EventCode.REFERRAL_REQUESTED,
        sender="Organization/sikao-hospital",
        destinations=["Organization/trang-hospital"],
        focus=[_task()],
        source_endpoint="urn:test",
    )
    entries = json.loads(message.to_json())["entry"]
    for entry in entries:
        resource = entry["resource"]
        assert (
            entry["fullUrl"] == f"{PROJECT_CANONICAL}/{resource['resourceType']}/{resource['id']}"
        )
    header_base = entries[0]["fullUrl"].rsplit("/", 2)[0]
    focus = entries[0]["resource"]["focus"][0]["reference"]
    assert f"{header_base}/{focus}" == entries[1]["fullUrl"]


def test_a_resource_without_a_valid_fhir_id_is_never_emitted() -> None:
    task = _task().model_copy(update={"id": "x" * 65})
    with pytest.raises(ValueError, match="valid FHIR id"):
        build_message(
            event=EventCode.REFERRAL_REQUESTED,
            sender="Organization/sikao-hospital",
            destinations=["Organization/trang-hospital"],
            focus=[task],
            source_endpoint="urn:test",
        )


@pytest.mark.parametrize(
    ("prefix", "base", "expected"),
    [
        ("sr-", "example-referral-0001", "sr-example-referral-0001"),
        ("cr-alert-referral-not-accepted-", str(uuid.UUID(int=0)), None),
        ("p-", "r" * 64, None),
        ("prov-", "a message id with spaces", None),
    ],
)
def test_derived_ids_stay_valid_fhir_ids_and_stable(
    prefix: str, base: str, expected: str | None
) -> None:
    derived = derived_id(prefix, base)
    assert is_valid_id(derived)
    assert derived == derived_id(prefix, base)
    if expected is not None:
        assert derived == expected
    else:
        assert derived.startswith(prefix[:10])
        assert len(derived) <= 64
        assert derived != derived_id(prefix, base + "x")


@pytest.mark.parametrize(
    ("base", "suffix", "expected"),
    [
        ("uc-0001", ".r1", "uc-0001.r1"),
        ("x" * 61, ".r1", "x" * 61 + ".r1"),  # exactly 64
        ("x" * 64, ".r1", None),  # the longest id a hospital may send, re-routed
        ("y" * 63, ".r12", None),
    ],
)
def test_suffixed_ids_stay_valid_fhir_ids_keep_their_suffix_and_stay_apart(
    base: str, suffix: str, expected: str | None
) -> None:
    suffixed = suffixed_id(base, suffix)
    assert is_valid_id(suffixed)
    assert suffixed == suffixed_id(base, suffix)
    if expected is not None:
        assert suffixed == expected
    else:
        assert suffixed.endswith(suffix)
        assert suffixed.startswith(base[:20])
        assert suffixed != suffixed_id(base[:-1] + "z", suffix)
        assert suffixed != suffixed_id(base, suffix + "0")
