"""The bedside findings a referral carries (FAST, blood pressure, glucose, anticoagulant, CT):
refused when impossible, and the same after a trip through our own FHIR message as the web form
recorded them, so a hospital system can send exactly what the form sends."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.referral.adapters.fhir_inbound import request_from_message
from services.referral.adapters.fhir_mapping import referral_requested_message
from services.referral.domain.assessment import (
    NIHSS_ITEMS,
    Anticoagulant,
    CtResult,
    FastSign,
    StrokeAssessment,
    nihss_total,
)
from services.referral.domain.commands import RequestReferral
from services.referral.domain.errors import InvalidReferral

NOW = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
BASE = RequestReferral(
    referral_id="ref-bedside",
    request_message_id="msg-bedside",
    requester_org="sikao-hospital",
    owner_org="trang-hospital",
    patient_hn="HN-1",
    last_known_well=NOW - timedelta(minutes=50),
    nihss=9,
    requested_at=NOW,
)

FULL = StrokeAssessment(
    fast_signs=frozenset({FastSign.FACE, FastSign.SPEECH}),
    systolic_bp=182,
    diastolic_bp=104,
    glucose_mg_dl=135,
    anticoagulant=Anticoagulant.NO,
    ct=CtResult.NO_HEMORRHAGE,
)


@pytest.mark.parametrize(
    "assessment",
    [
        FULL,
        StrokeAssessment(),
        StrokeAssessment(fast_signs=frozenset(), anticoagulant=Anticoagulant.UNKNOWN),
        StrokeAssessment(anticoagulant=Anticoagulant.YES, ct=CtResult.HEMORRHAGE),
        StrokeAssessment(ct=CtResult.PENDING),
        StrokeAssessment(ct=CtResult.NOT_DONE, glucose_mg_dl=48),
    ],
    ids=["everything", "nothing", "no-fast-sign-unknown-drugs", "bleed", "ct-pending", "no-ct"],
)
def test_the_findings_survive_our_own_fhir_message(assessment: StrokeAssessment) -> None:
    request = replace(BASE, assessment=assessment)
    message = referral_requested_message(request, source_endpoint="urn:test")
    assert request_from_message(message, now=NOW).assessment == assessment


def test_the_findings_survive_storage_as_json() -> None:
    assert StrokeAssessment.from_json(FULL.as_json()) == FULL
    assert StrokeAssessment.from_json(None) == StrokeAssessment()


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"systolic_bp": 180}, "Blood pressure needs both systolic and diastolic"),
        ({"systolic_bp": 400, "diastolic_bp": 90}, "Systolic blood pressure must be between"),
        ({"systolic_bp": 120, "diastolic_bp": 10}, "Diastolic blood pressure must be between"),
        ({"systolic_bp": 90, "diastolic_bp": 120}, "Diastolic blood pressure must be below"),
        ({"glucose_mg_dl": 2}, "Glucose must be between 10 and 1500 mg/dL"),
    ],
)
def test_impossible_findings_are_refused_with_a_reason(fields: dict[str, int], reason: str) -> None:
    with pytest.raises(InvalidReferral, match=reason):
        StrokeAssessment(**fields)  # type: ignore[arg-type]


def test_the_fifteen_nihss_items_add_up_to_at_most_42() -> None:
    assert len(NIHSS_ITEMS) == 15
    assert nihss_total({item.code: item.maximum for item in NIHSS_ITEMS}) == 42
    assert nihss_total({"1a": 1, "5b": 4, "9": 2}) == 7
    assert nihss_total({}) == 0


@pytest.mark.parametrize(
    ("scores", "reason"),
    [({"1a": 4}, "NIHSS item 1a .* between 0 and 3"), ({"12": 1}, "Unknown NIHSS item")],
)
def test_an_nihss_item_out_of_its_range_is_refused(scores: dict[str, int], reason: str) -> None:
    with pytest.raises(InvalidReferral, match=reason):
        nihss_total(scores)
