"""Consult first: what a spoke may ask the hub's consultant with before any referral (a table
of requests, accepted or refused with the field at fault), and the hand-over between the two
services: what telemedicine announces of the consult is what the referral service makes the
referral from (patient, last known well and how sure, door-in, NIHSS), linked to the consult."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.referral.adapters import fhir_inbound, fhir_steps
from services.referral.domain.commands import ClinicalTime
from services.telemedicine.adapters import fhir_mapping, first_consult_fhir
from services.telemedicine.domain.first_consult import (
    ConsultQuestion,
    ask_first,
    first_consult_id,
)
from shared.errors import InvalidInput
from shared.fhir.envelope import parse_message
from shared.fhir.models import Task
from shared.workflow.consult_state import ConsultStage

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
SPOKE, HUB = "sikao-hospital", "trang-hospital"
GOOD = ConsultQuestion(
    patient="Patient/p-1",
    hospital_number="HN-4711",
    last_known_well=NOW - timedelta(minutes=70),
    door_in=NOW - timedelta(minutes=12),
    nihss=9,
    question="Left hemiparesis, CT pending: lyse here or transfer?",
)

# (what is changed, refused for which field or None when accepted)
CASES = [
    ({}, None),
    ({"last_known_well": None, "door_in": None, "nihss": None, "question": ""}, None),
    ({"lkw_uncertain": True}, None),
    # A hospital clock a minute ahead is not a request from the future.
    ({"door_in": NOW + timedelta(minutes=1)}, None),
    ({"hospital_number": "  "}, "Patient"),
    ({"last_known_well": NOW + timedelta(minutes=10)}, "last_known_well"),
    ({"last_known_well": NOW.replace(tzinfo=None)}, "last_known_well"),
    ({"door_in": NOW + timedelta(minutes=10)}, "door_in"),
    ({"last_known_well": NOW - timedelta(minutes=5)}, "last_known_well"),
    ({"nihss": 43}, "nihss"),
    ({"nihss": -1}, "nihss"),
    ({"question": "x" * 501}, "question"),
]


@pytest.mark.parametrize(("changes", "refused_at"), CASES)
def test_a_consult_asked_first_is_accepted_or_refused_naming_the_field(
    changes: dict[str, object], refused_at: str | None
) -> None:
    question = replace(GOOD, **changes)  # type: ignore[arg-type]
    asked = {
        "consult_id": "tc-x",
        "requester_org": SPOKE,
        "consultant_org": HUB,
        "question": question,
        "at": NOW,
    }
    if refused_at is None:
        consult = ask_first(**asked)  # type: ignore[arg-type]
        assert (consult.stage, consult.asked_first, consult.referral) == (
            ConsultStage.REQUESTED,
            True,
            None,
        )
        assert consult.referral_id == consult.id == "tc-x"  # keyed by itself
    else:
        with pytest.raises(InvalidInput) as refused:
            ask_first(**asked)  # type: ignore[arg-type]
        assert refused.value.expression == refused_at


def test_a_hospital_cannot_ask_itself() -> None:
    with pytest.raises(InvalidInput):
        ask_first(consult_id="tc-x", requester_org=HUB, consultant_org=HUB, question=GOOD, at=NOW)


def test_a_hospital_systems_request_sent_twice_is_one_consult_and_web_requests_differ() -> None:
    once = first_consult_id(requester_org=SPOKE, request_id="his-42")
    assert once == first_consult_id(requester_org=SPOKE, request_id="his-42")
    assert once != first_consult_id(requester_org="kantang-hospital", request_id="his-42")
    assert first_consult_id(requester_org=SPOKE, request_id=None) != first_consult_id(
        requester_org=SPOKE, request_id=None
    )


def _announced(question: ConsultQuestion) -> tuple[str, bytes]:
    consult = ask_first(
        consult_id="tc-first-1",
        requester_org=SPOKE,
        consultant_org=HUB,
        question=question,
        at=NOW,
    )
    message = fhir_mapping.teleconsult_requested_message(
        consult,
        source_endpoint="https://telemedicine.example/fhir",
        supporting=first_consult_fhir.question_resources(consult, question),
    )
    return consult.id, message.to_json()


def test_the_announced_consult_reads_back_as_the_question_it_was_asked_with() -> None:
    _, announced = _announced(replace(GOOD, lkw_uncertain=True))
    message = parse_message(announced)
    assert first_consult_fhir.asks_first(message)
    read = first_consult_fhir.asked_first(message)
    assert (read.requester_org, read.consultant_org, read.request_id) == (
        SPOKE,
        HUB,
        "tc-first-1",
    )
    assert read.question == replace(GOOD, lkw_uncertain=True)


def test_the_referral_service_makes_the_referral_from_what_the_consult_announced() -> None:
    consult_id, announced = _announced(replace(GOOD, lkw_uncertain=True))
    message = parse_message(announced)
    # The referral service sees a consult asked first (no referral to put its steps on yet).
    assert fhir_steps.asked_first(message) == consult_id
    assert not fhir_steps.about_an_episode(message)
    request = fhir_inbound.request_from_message(message, now=NOW)
    assert (request.requester_org, request.owner_org) == (SPOKE, HUB)
    assert request.patient_hn == "HN-4711"
    assert request.last_known_well == GOOD.last_known_well
    assert request.lkw_uncertain is True
    assert request.nihss == 9
    (door,) = [t for t in request.reported_times if t.kind is ClinicalTime.DOOR_IN]
    assert door.occurred_at == GOOD.door_in
    assert door.hospital == SPOKE


def test_a_linked_consults_steps_are_part_of_the_referral() -> None:
    consult = replace(
        ask_first(
            consult_id="tc-first-1", requester_org=SPOKE, consultant_org=HUB, question=GOOD, at=NOW
        ),
        linked_referral="rf-tc-first-1",
    )
    task = Task.model_validate(fhir_mapping.consult_task(consult))
    assert [p.reference for p in task.partOf or []] == ["Task/rf-tc-first-1"]
    assert task.focus is not None
    assert task.focus.reference == "ServiceRequest/tc-first-1"
