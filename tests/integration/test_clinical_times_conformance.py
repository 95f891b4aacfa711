"""The clinical times the network passes on (a re-routed patient's door-in, CT, needle, each with
its hospital and how sure it is) validate with HAPI FHIR's R4B instance validator."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from services.referral.adapters.clinical_resources import reported_from_clock
from services.referral.adapters.fhir_inbound import request_from_message
from services.referral.adapters.fhir_mapping import referral_requested_message
from services.referral.domain.clock import Milestone, TimeSource
from shared.fhir.envelope import parse_message
from shared.vocabulary.milestones import MilestoneCode
from tests.fhir_validator import FhirValidator
from tests.support import EXAMPLE_REFERRAL

M = MilestoneCode


def at(minute: int) -> datetime:
    return datetime(2026, 11, 23, 2, minute, tzinfo=UTC)


def test_a_rerouted_referral_with_its_clinical_times_validates_with_no_error(
    fhir_validator: FhirValidator,
) -> None:
    clock = [
        Milestone(M.DOOR_IN_FIRST, at(0), at(1), TimeSource.ESTIMATED, True, "sikao-hospital"),
        Milestone(M.CT_STARTED, at(15), at(16), hospital="sikao-hospital"),
        Milestone(M.NEEDLE, at(40), at(41), TimeSource.DEVICE, hospital="sikao-hospital"),
        Milestone(M.DOOR_OUT_FIRST, at(55), at(56), hospital="sikao-hospital"),
        Milestone(M.GROIN_PUNCTURE, at(59), at(59), hospital="trang-hospital"),
    ]
    example = parse_message(json.loads(EXAMPLE_REFERRAL.read_text(encoding="utf-8")))
    request = request_from_message(example, now=at(59))
    message = referral_requested_message(
        replace(request, reported_times=reported_from_clock(clock), lkw_uncertain=True),
        source_endpoint="urn:test",
    )
    errors = fhir_validator.errors(json.loads(message.to_json()))
    assert not errors, "\n".join(map(str, errors))
