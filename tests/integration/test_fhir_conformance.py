"""An independent validator (HAPI FHIR's R4B instance validator) finds no error in what the
project publishes: the examples of the README, the demo hospital directory and the conformance
resources under /fhir."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.referral.adapters.fhir_mapping import referral_requested_message
from services.referral.domain.assessment import (
    Anticoagulant,
    CtResult,
    FastSign,
    StrokeAssessment,
)
from services.referral.domain.commands import RequestReferral
from shared.fhir.conformance.catalogue import conformance_resources
from shared.fhir.conformance.profiles import profile_for
from tests.fhir_validator import FhirValidator
from tests.support import ROOT

EXAMPLES = sorted((ROOT / "examples").glob("*.json"))


@pytest.mark.parametrize("example", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_every_example_validates_with_no_error(
    fhir_validator: FhirValidator, example: Path
) -> None:
    document = json.loads(example.read_text(encoding="utf-8"))
    errors = fhir_validator.errors(document)
    assert not errors, "\n".join(map(str, errors))


def test_the_demo_directory_validates_with_no_error(fhir_validator: FhirValidator) -> None:
    """deploy/demo/directory.json, the directory `make up` loads and the README points hospital
    engineers to (a hospital's geolocation goes on its Address: the extension's context)."""
    document = json.loads((ROOT / "deploy" / "demo" / "directory.json").read_text("utf-8"))
    errors = fhir_validator.errors(document)
    assert not errors, "\n".join(map(str, errors))


def test_every_published_conformance_resource_validates_with_no_error(
    fhir_validator: FhirValidator,
) -> None:
    found = {
        f"{resource['resourceType']}/{resource['id']}": fhir_validator.errors(resource)
        for resource in conformance_resources()
    }
    assert not any(found.values()), {key: list(map(str, e)) for key, e in found.items() if e}


def test_the_profiles_catch_what_the_network_would_refuse(fhir_validator: FhirValidator) -> None:
    """The validator really checks the project's profiles: an NIHSS of 57 is valid R4B but not
    a valid Fast Track NIHSS observation, and a Task without requester not a referral Task."""
    document = json.loads((ROOT / "examples" / "referral-requested.json").read_text("utf-8"))
    for entry in document["entry"]:
        resource = entry["resource"]
        if resource["id"].startswith("nihss-"):
            resource["valueInteger"] = 57
        if resource["resourceType"] == "Task":
            del resource["requester"]
        resource["meta"] = {"profile": [profile.url]} if (profile := profile_for(resource)) else {}
    errors = fhir_validator.errors(document)
    assert any("42" in issue.message for issue in errors), "\n".join(map(str, errors))
    assert any("Task.requester" in issue.message for issue in errors), "\n".join(map(str, errors))


@pytest.mark.parametrize(
    "assessment",
    [
        StrokeAssessment(
            fast_signs=frozenset({FastSign.FACE, FastSign.ARM}),
            systolic_bp=182,
            diastolic_bp=101,
            glucose_mg_dl=140,
            anticoagulant=Anticoagulant.NO,
            ct=CtResult.NO_HEMORRHAGE,
        ),
        StrokeAssessment(anticoagulant=Anticoagulant.UNKNOWN, ct=CtResult.PENDING),
        StrokeAssessment(ct=CtResult.NOT_DONE),
    ],
    ids=["every finding", "unknown drugs, CT not read", "no CT"],
)
def test_a_referral_with_the_bedside_findings_validates_with_no_error(
    fhir_validator: FhirValidator, assessment: StrokeAssessment
) -> None:
    """What the web form sends (blood pressure panel, glucose, FAST, anticoagulant, CT, with
    dataAbsentReason for what is not known) is valid R4B."""
    request = RequestReferral(
        referral_id="bedside-1",
        request_message_id="bedside-message-1",
        requester_org="sikao-hospital",
        owner_org="trang-hospital",
        patient_hn="HN-1",
        last_known_well=datetime(2026, 11, 30, 13, 0, tzinfo=UTC),
        nihss=9,
        requested_at=datetime(2026, 11, 30, 14, 0, tzinfo=UTC),
        assessment=assessment,
    )
    message = referral_requested_message(request, source_endpoint="https://ft.example/fhir")
    errors = fhir_validator.errors(json.loads(message.to_json()))
    assert not errors, "\n".join(map(str, errors))
