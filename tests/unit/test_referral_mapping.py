"""Reading a referral-requested message into the domain, and refusing incomplete ones."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.referral.adapters.fhir_inbound import request_from_message
from services.referral.adapters.fhir_mapping import referral_requested_message
from services.referral.adapters.notification_texts import stroke_team_alert
from services.referral.domain.commands import RequestReferral
from services.referral.domain.errors import InvalidReferral
from shared.fhir.envelope import InvalidMessage, parse_message
from shared.fhir.models import CommunicationRequest
from shared.fhir.notifications import payload_link

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "referral-requested.json"
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def _example() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return document


def _resource(document: dict[str, Any], resource_type: str) -> dict[str, Any]:
    resource: dict[str, Any] = next(
        e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == resource_type
    )
    return resource


def test_example_becomes_a_request_with_clinical_facts() -> None:
    request = request_from_message(parse_message(_example()), now=NOW)
    assert request.referral_id == "example-referral-0001"
    assert (request.requester_org, request.owner_org) == ("sikao-hospital", "trang-hospital")
    assert request.patient_hn == "HN-6501234"
    assert request.nihss == 14
    assert request.suspected_lvo is True
    assert request.teleconsult_requested is True
    assert request.last_known_well == datetime(2026, 11, 23, 1, 40, tzinfo=UTC)


def test_round_trip_through_our_own_message() -> None:
    request = request_from_message(parse_message(_example()), now=NOW)
    again = request_from_message(
        referral_requested_message(request, source_endpoint="urn:t"), now=NOW
    )
    assert again.patient_hn == request.patient_hn
    assert (again.nihss, again.last_known_well, again.suspected_lvo) == (
        request.nihss,
        request.last_known_well,
        request.suspected_lvo,
    )


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda d: _resource(d, "Task").update(status="accepted"), "must be 'requested'"),
        (
            lambda d: _resource(d, "Task").update(owner={"reference": "Practitioner/dr-x"}),
            "Task.owner must reference an Organization",
        ),
        (lambda d: _resource(d, "Patient").pop("identifier"), "needs its hospital number"),
        (
            lambda d: d["entry"][0]["resource"].update(sender={"reference": "Organization/x"}),
            "sender must be the requesting organization",
        ),
        (
            lambda d: next(
                e["resource"] for e in d["entry"] if e["resource"].get("id", "").startswith("nihss")
            ).update(valueInteger=57),
            "NIHSS must be between 0 and 42",
        ),
        (
            lambda d: _resource(d, "Task").update(
                owner={"reference": "Organization/sikao-hospital"}
            ),
            "cannot refer a patient to itself",
        ),
    ],
)
def test_incomplete_or_wrong_referrals_are_refused(mutate: Any, reason: str) -> None:
    document = _example()
    mutate(document)
    with pytest.raises(InvalidReferral) as refused:
        request_from_message(parse_message(document), now=NOW)
    assert reason in refused.value.reason


def test_last_known_well_after_the_request_is_refused() -> None:
    with pytest.raises(InvalidReferral, match="cannot be after"):
        RequestReferral(
            referral_id="r",
            request_message_id="m",
            requester_org="a",
            owner_org="b",
            patient_hn="HN1",
            last_known_well=NOW + timedelta(minutes=5),
            requested_at=NOW,
        )


def test_stroke_team_alert_carries_the_minimum_and_local_clock_time() -> None:
    request = request_from_message(parse_message(_example()), now=NOW)
    alert = stroke_team_alert(
        request,
        requester_name="Sikao Hospital",
        referral_url="https://ft.example/referrals/example-referral-0001",
        source_endpoint="urn:t",
    )
    communication = alert.focus_resource(CommunicationRequest)
    assert communication is not None
    text = (communication.payload or [])[0].contentString
    assert isinstance(text, str)
    # 08:40 in Bangkok (+07:00), whatever zone the server runs in, with its date.
    assert "LKW 08:40 on 23 Nov 2026 (Bangkok time)" in text
    assert "NIHSS 14" in text
    assert "HN-6501234" not in text  # the hospital number stays behind the authenticated link
    # The link travels beside the text, never inside it.
    assert "https://" not in text
    assert payload_link(communication) == "https://ft.example/referrals/example-referral-0001"


def test_clinical_request_time_is_the_senders_and_a_future_one_is_refused() -> None:
    request = request_from_message(parse_message(_example()), now=NOW)
    assert request.requested_at == datetime(2026, 11, 23, 2, 55, tzinfo=UTC)  # 09:55 +07:00
    document = _example()
    _resource(document, "Task")["authoredOn"] = "2026-11-23T11:00:00+07:00"  # 04:00Z > NOW
    with pytest.raises(InvalidReferral, match="in the future"):
        request_from_message(parse_message(document), now=NOW)


def test_clinical_time_without_zone_is_refused_at_the_edge() -> None:
    document = _example()
    _resource(document, "Task")["authoredOn"] = "2026-11-23T09:55:00"
    # FHIR itself requires a zone on a dateTime with a time; the envelope parser says where.
    with pytest.raises(InvalidMessage, match="authoredOn"):
        parse_message(document)
