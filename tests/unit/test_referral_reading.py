"""A referral written from the FHIR specification is understood: every reference style the
R4B Bundle rules allow, the hospital's own patient identifier system, last known well from a
Condition's onset as well as from the project's Observation."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.patient import Patient

from services.referral.adapters.fhir_inbound import request_from_message
from services.referral.adapters.fhir_mapping import HN_SYSTEM, referral_requested_message
from services.referral.domain.errors import InvalidReferral
from shared.fhir.envelope import parse_message

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "referral-requested.json"
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
SIKAO_HN = "https://his.sikao-hospital.example/fhir/sid/hn"
LKW = datetime(2026, 11, 23, 1, 40, tzinfo=UTC)


def _example() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return document


def _rewrite_references(document: dict[str, Any], new_url: Callable[[str], str]) -> None:
    """Gives every entry a new fullUrl and points every reference to an entry at it."""
    urls: dict[str, str] = {}
    for entry in document["entry"]:
        resource = entry["resource"]
        relative = f"{resource['resourceType']}/{resource['id']}"
        urls[relative] = entry["fullUrl"] = new_url(relative)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            reference = node.get("reference")
            if isinstance(reference, str) and reference in urls:
                node["reference"] = urls[reference]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)


def _relative_from_a_urn_uuid_header(document: dict[str, Any]) -> None:
    document["entry"][0]["fullUrl"] = f"urn:uuid:{uuid.uuid4()}"


def _relative_from_restful_full_urls(document: dict[str, Any]) -> None:
    _rewrite_references(document, lambda r: f"https://his.sikao-hospital.example/fhir/{r}")
    for entry in document["entry"]:
        for key in ("focus", "for", "subject"):
            target = entry["resource"].get(key)
            targets = target if isinstance(target, list) else [target]
            for reference in (t for t in targets if isinstance(t, dict)):
                reference["reference"] = reference["reference"].split("/fhir/")[-1]


def _absolute(document: dict[str, Any]) -> None:
    _rewrite_references(document, lambda r: f"https://his.sikao-hospital.example/fhir/{r}")


def _urn_uuid(document: dict[str, Any]) -> None:
    _rewrite_references(document, lambda r: f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, r)}")


def _organizations_absolute(document: dict[str, Any]) -> None:
    text = json.dumps(document).replace(
        '"Organization/', '"https://fasttrack.example.org/fhir/Organization/'
    )
    document.clear()
    document.update(json.loads(text))


REFERENCE_STYLES = {
    "relative, header with a urn:uuid fullUrl": _relative_from_a_urn_uuid_header,
    "relative, RESTful fullUrls of the hospital's own server": _relative_from_restful_full_urls,
    "absolute URLs": _absolute,
    "urn:uuid fullUrls and references": _urn_uuid,
    "organizations by absolute URL": _organizations_absolute,
}


@pytest.mark.parametrize("style", REFERENCE_STYLES, ids=list(REFERENCE_STYLES))
def test_a_referral_is_read_in_every_reference_style_fhir_allows(style: str) -> None:
    document = _example()
    REFERENCE_STYLES[style](document)
    request = request_from_message(parse_message(document), now=NOW)
    assert request.referral_id == "example-referral-0001"
    assert (request.requester_org, request.owner_org) == ("sikao-hospital", "trang-hospital")
    assert (request.patient_hn, request.nihss, request.last_known_well) == ("HN-6501234", 14, LKW)


def _patient(document: dict[str, Any]) -> dict[str, Any]:
    patient: dict[str, Any] = next(
        e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    return patient


MR = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}
NATIONAL_ID = {"system": "https://www.dopa.go.th/fhir/sid/national-id", "value": "1100000000001"}
# (identifiers of the Patient, hospital's own system in the directory) -> (value, system) read,
# or None when the referral is refused.
IDENTIFIER_CASES: list[tuple[str, list[dict[str, Any]], str | None, tuple[str, str] | None]] = [
    ("the project's system", [{"system": HN_SYSTEM, "value": "HN-1"}], None, ("HN-1", HN_SYSTEM)),
    (
        "the hospital's own system, configured in the directory",
        [NATIONAL_ID, {"system": SIKAO_HN, "value": "0099"}],
        SIKAO_HN,
        ("0099", SIKAO_HN),
    ),
    (
        "an identifier typed MR in any system",
        [NATIONAL_ID, {"type": MR, "system": SIKAO_HN, "value": "0099"}],
        None,
        ("0099", SIKAO_HN),
    ),
    (
        "the only identifier there is",
        [{"system": SIKAO_HN, "value": "0099"}],
        None,
        ("0099", SIKAO_HN),
    ),
    ("two untyped identifiers in unknown systems", [NATIONAL_ID, NATIONAL_ID], None, None),
    ("no identifier", [], None, None),
]


@pytest.mark.parametrize(
    ("case", "identifiers", "own_system", "expected"),
    IDENTIFIER_CASES,
    ids=[case[0] for case in IDENTIFIER_CASES],
)
def test_the_patient_identifier_is_read_from_any_system_the_rules_accept(
    case: str,
    identifiers: list[dict[str, Any]],
    own_system: str | None,
    expected: tuple[str, str] | None,
) -> None:
    document = _example()
    _urn_uuid(document)
    _patient(document)["identifier"] = identifiers
    systems = {"sikao-hospital": own_system} if own_system else {}
    message = parse_message(document)
    if expected is None:
        with pytest.raises(InvalidReferral) as refused:
            request_from_message(message, now=NOW, patient_systems=systems)
        assert refused.value.expression == "Patient.identifier"
        return
    request = request_from_message(message, now=NOW, patient_systems=systems)
    assert (request.patient_hn, request.patient_hn_system or HN_SYSTEM) == expected


def _stroke_condition(onset: str) -> dict[str, Any]:
    return {
        "fullUrl": "urn:uuid:8a1c3f0e-5b4d-4c1e-9f7a-2d3e4f5a6b7c",
        "resource": {
            "resourceType": "Condition",
            "id": "stroke",
            "clinicalStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                        "code": "active",
                    }
                ]
            },
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "422504002"}]},
            "subject": {"reference": "Patient/p-example-referral-0001"},
            "onsetDateTime": onset,
        },
    }


def _without_lkw_observation(document: dict[str, Any]) -> dict[str, Any]:
    document["entry"] = [
        e for e in document["entry"] if not e["resource"].get("id", "").startswith("lkw-")
    ]
    return document


def test_last_known_well_is_read_from_the_stroke_conditions_onset() -> None:
    document = _without_lkw_observation(_example())
    document["entry"].append(_stroke_condition("2026-11-23T08:40:00+07:00"))
    request = request_from_message(parse_message(document), now=NOW)
    assert request.last_known_well == LKW


def test_the_lkw_observation_wins_over_the_conditions_onset() -> None:
    document = _example()
    document["entry"].append(_stroke_condition("2026-11-23T07:00:00+07:00"))
    request = request_from_message(parse_message(document), now=NOW)
    assert request.last_known_well == LKW


def test_a_referral_without_last_known_well_is_accepted_but_a_prealert_is_refused() -> None:
    document = _without_lkw_observation(_example())
    assert request_from_message(parse_message(document), now=NOW).last_known_well is None
    document["entry"][0]["resource"]["eventCoding"]["code"] = "stroke-prealert"
    with pytest.raises(InvalidReferral) as refused:
        request_from_message(parse_message(document), now=NOW)
    assert refused.value.expression == "Condition.onset"
    assert "last known well" in refused.value.reason


def test_the_hospitals_own_identifier_system_goes_on_in_the_networks_message() -> None:
    document = _example()
    _patient(document)["identifier"] = [{"system": SIKAO_HN, "value": "0099"}]
    request = request_from_message(
        parse_message(document), now=NOW, patient_systems={"sikao-hospital": SIKAO_HN}
    )
    emitted = referral_requested_message(request, source_endpoint="urn:test")
    patient = emitted.resources(Patient)[0]
    assert [(i.system, i.value) for i in patient.identifier or []] == [(SIKAO_HN, "0099")]


def test_an_nihss_given_as_a_quantity_without_a_value_is_refused_naming_the_element() -> None:
    document = _example()
    nihss = next(e["resource"] for e in document["entry"] if "valueInteger" in e["resource"])
    del nihss["valueInteger"]
    nihss["valueQuantity"] = {"unit": "{score}"}
    with pytest.raises(InvalidReferral) as refused:
        request_from_message(parse_message(document), now=NOW)
    assert refused.value.expression == "Observation.valueQuantity.value"


def test_an_nihss_given_as_a_quantity_is_read_as_a_whole_score() -> None:
    document = _example()
    nihss = next(e["resource"] for e in document["entry"] if "valueInteger" in e["resource"])
    del nihss["valueInteger"]
    nihss["valueQuantity"] = {"value": 9, "unit": "{score}"}
    assert request_from_message(parse_message(document), now=NOW).nihss == 9
