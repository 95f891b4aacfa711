"""The new-referral form read into the intake command: what a nurse types becomes the referral
a hospital system would send, and every mistake is named on its field, never a crash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.referral.adapters.referral_form_input import FormProblems, read_referral_form
from services.referral.domain.assessment import Anticoagulant, CtResult, FastSign
from shared.province_time import PROVINCE_ZONE

NOW = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # 21:00 in Bangkok
REQUEST_ID = "6f1c2b9e-0d7a-4a57-9d8e-3c2f7e1a9b10"
COMPLETE = {
    "request_id": [REQUEST_ID],
    "hn": ["HN-650123"],
    "lkw": ["2026-11-30T20:15"],
    "fast": ["face", "arm"],
    "nihss": ["9"],
    "systolic": ["178"],
    "diastolic": ["96"],
    "glucose": ["142"],
    "anticoagulant": ["no"],
    "ct": ["no-hemorrhage"],
    "lvo": ["on"],
    "teleconsult": ["on"],
    "owner": [""],
}


def _read(**changes: list[str]) -> object:
    return read_referral_form(
        {**COMPLETE, **changes}, requester="sikao-hospital", person="Ploy (ploy)", now=NOW
    )


def test_a_complete_form_becomes_the_same_command_a_hospital_system_sends() -> None:
    request = read_referral_form(
        COMPLETE, requester="sikao-hospital", person="Ploy (ploy)", now=NOW
    )
    assert request.requester_org == "sikao-hospital"
    assert request.owner_org == ""  # the network routes the patient
    assert request.request_message_id == REQUEST_ID  # a second tap makes no second referral
    assert request.patient_hn == "HN-650123"
    assert request.last_known_well == datetime(2026, 11, 30, 20, 15, tzinfo=PROVINCE_ZONE)
    assert (request.nihss, request.suspected_lvo, request.teleconsult_requested) == (9, True, True)
    assert request.assessment.fast_signs == frozenset({FastSign.FACE, FastSign.ARM})
    assert (request.assessment.systolic_bp, request.assessment.diastolic_bp) == (178, 96)
    assert request.assessment.glucose_mg_dl == 142
    assert request.assessment.anticoagulant is Anticoagulant.NO
    assert request.assessment.ct is CtResult.NO_HEMORRHAGE
    assert request.requested_by == "Ploy (ploy)"
    assert not request.prealert


def test_an_unknown_hospital_number_sends_a_prealert_and_an_uncertain_lkw_is_estimated() -> None:
    request = read_referral_form(
        {**COMPLETE, "hn": [""], "hn_unknown": ["on"], "lkw_uncertain": ["on"]},
        requester="sikao-hospital",
        person="Ploy (ploy)",
        now=NOW,
    )
    assert request.prealert
    assert request.patient_hn == ""
    assert (request.lkw_source, request.lkw_uncertain) == ("estimated", True)


def test_the_calculator_items_make_the_total() -> None:
    request = read_referral_form(
        {**COMPLETE, "nihss": [""], "nihss_1a": ["1"], "nihss_5a": ["4"], "nihss_9": ["2"]},
        requester="sikao-hospital",
        person="p",
        now=NOW,
    )
    assert request.nihss == 7


# (the field changed, what the nurse typed, the field the problem is shown on, the message id)
MISTAKES = [
    ("hn", [""], "hn", "Enter the hospital number, or tick unknown."),
    ("hn", ["HN<script>"], "hn", "Letters, digits and - / . only, up to 32."),
    ("lkw", ["yesterday"], "lkw", "Enter a date and time."),
    ("lkw", ["2026-11-30T23:00"], "lkw", "Last known well cannot be in the future."),
    ("nihss", ["43"], "nihss", "Enter a whole number from 0 to 42."),
    ("nihss", ["-1"], "nihss", "Enter a whole number from 0 to 42."),
    ("nihss_1a", ["4"], "nihss_1a", "Enter a whole number from 0 to 3."),
    ("glucose", ["lots"], "glucose", "Enter a whole number from 0 to 9999."),
    ("anticoagulant", ["maybe"], "anticoagulant", "Choose one of the options."),
    ("ct", ["mri"], "ct", "Choose one of the options."),
    ("fast", ["leg"], "fast", "Choose one of the options."),
    ("request_id", ["../x"], "", "The form is out of date: open it again."),
]


@pytest.mark.parametrize(("name", "typed", "field", "message"), MISTAKES)
def test_each_mistake_is_named_on_its_field(
    name: str, typed: list[str], field: str, message: str
) -> None:
    with pytest.raises(FormProblems) as refused:
        _read(**{name: typed})
    assert refused.value.fields == {field: message}


def test_a_calculator_that_disagrees_with_the_typed_total_is_a_mistake() -> None:
    with pytest.raises(FormProblems) as refused:
        _read(nihss=["9"], nihss_1a=["1"])
    assert refused.value.fields == {"nihss": "The NIHSS total differs from the sum of the items."}


def test_an_impossible_blood_pressure_is_refused_with_the_domains_reason() -> None:
    with pytest.raises(FormProblems) as refused:
        _read(systolic=["90"], diastolic=["120"])
    assert refused.value.fields == {"": "The referral was not sent."}
    assert refused.value.detail is not None
    assert refused.value.detail.reason == "Diastolic blood pressure must be below systolic"


def test_a_preview_needs_no_hospital_number() -> None:
    request = read_referral_form(
        {"lkw": [f"{NOW.astimezone(PROVINCE_ZONE) - timedelta(hours=1):%Y-%m-%dT%H:%M}"]},
        requester="sikao-hospital",
        person="p",
        now=NOW,
        preview=True,
    )
    assert request.prealert
    assert request.last_known_well == NOW - timedelta(hours=1)
