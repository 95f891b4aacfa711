"""What a consumer reads of a relayed record it handles comes from the record's JSON: no model
of the entry is made on the path of every referral.

Telemedicine reads of every referral-requested who the referral is between and whether it asks
for a teleconsult; the referral service reads of every page's outcome what became of it, and of
every consult's step its stage and time. Each used to make the entries' models for that: the
referral's Task and its ServiceRequest (about 1.7 ms of CPU for each referral, measured on the
2-core machine), the outcome's Communication (about 0.5 ms, two outcomes for each referral), the
consult's Task (about 0.5 ms; a signed recommendation's outputs are still read from it). The
readings must still say what the models said, for relayed records and for messages parsed
whole.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel

from services.referral.adapters import fhir_mapping as referral_fhir
from services.referral.adapters import fhir_steps
from services.referral.domain.commands import RequestReferral
from services.telemedicine.adapters import fhir_mapping as telemedicine_fhir
from services.telemedicine.domain.model import Consult, step_of
from shared.fhir import envelope
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage, parse_message, read_relayed_message
from shared.workflow.consult_state import ConsultStage
from tests.delivery_outcomes import every_outcome_of, page_delivery
from tests.kafka_records import count_validations
from tests.support import EXAMPLE_REFERRAL


@pytest.fixture
def models(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every model made (a pydantic validation: a whole Bundle, an entry, or a part of one)."""
    monkeypatch.setattr(envelope, "CHECK_BUILT_MESSAGES", False)
    return count_validations(monkeypatch, BaseModel)


def _referral(*, teleconsult: bool) -> RequestReferral:
    now = datetime.now(UTC)
    return RequestReferral(
        referral_id=f"r-{uuid.uuid4()}",
        request_message_id=str(uuid.uuid4()),
        requester_org="sikao-hospital",
        owner_org="trang-hospital",
        patient_hn="HN-0001",
        last_known_well=now - timedelta(hours=1),
        nihss=8,
        suspected_lvo=False,
        requested_at=now - timedelta(minutes=1),
        teleconsult_requested=teleconsult,
    )


def _relayed(message: FhirMessage) -> FhirMessage:
    return read_relayed_message(message.to_json())


def test_telemedicine_reads_a_referrals_parties_without_a_model(models: list[str]) -> None:
    request = _referral(teleconsult=True)
    message = _relayed(
        referral_fhir.referral_requested_message(request, source_endpoint="urn:test")
    )

    parties = telemedicine_fhir.referral_parties(message)

    # Was a model of the Task and of the ServiceRequest.
    assert models == []
    links = telemedicine_fhir.referral_task_links(message)
    assert models == []
    assert parties == telemedicine_fhir.ReferralParties(
        referral_id=request.referral_id,
        requester_org="sikao-hospital",
        owner_org="trang-hospital",
        patient=parties.patient if parties else None,
    )
    assert parties is not None
    assert str(parties.patient).startswith("Patient/")
    assert links == (request.referral_id, ())


def test_a_referral_that_asks_no_teleconsult_opens_none() -> None:
    message = _relayed(
        referral_fhir.referral_requested_message(
            _referral(teleconsult=False), source_endpoint="urn:test"
        )
    )
    assert telemedicine_fhir.referral_parties(message) is None


def test_the_json_reading_of_a_referral_says_what_its_models_say() -> None:
    """The same referral parsed whole (as a record without the relay's headers is) and read from
    its JSON, and the example a hospital would send (an absolute fullUrl, a Patient entry)."""
    built = [
        referral_fhir.referral_requested_message(request, source_endpoint="urn:test").to_json()
        for request in (_referral(teleconsult=True), _referral(teleconsult=False))
    ]
    for payload in (*built, EXAMPLE_REFERRAL.read_bytes()):
        parsed = parse_message(payload)
        relayed = read_relayed_message(payload)
        assert telemedicine_fhir.referral_parties(parsed) == telemedicine_fhir.referral_parties(
            relayed
        )
        assert telemedicine_fhir.referral_task_links(
            parsed
        ) == telemedicine_fhir.referral_task_links(relayed)


def test_the_referral_service_reads_a_pages_outcome_without_a_model(
    models: list[str],
) -> None:
    outcomes = [_relayed(m) for m in every_outcome_of(page_delivery())]
    steps = [fhir_steps.notification_outcome_step(m) for m in outcomes]
    # Was one Communication model for each.
    assert models == []
    assert [s.referral_id for s in steps] == ["r-1"] * 5
    assert steps[0].event is EventCode.NOTIFICATION_SENT
    assert steps[0].detail["recipient"] == [
        "PractitionerRole/neurologist-on-call",
        "Organization/trang-hospital",
    ]
    assert steps[3].detail["by"] == "Dr A"


def test_the_json_reading_of_an_outcome_says_what_its_model_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(envelope, "CHECK_BUILT_MESSAGES", False)
    for built in every_outcome_of(page_delivery()):
        from_json = fhir_steps.notification_outcome_step(_relayed(built))
        parsed = fhir_steps.notification_outcome_step(parse_message(built.to_json()))
        # (An outcome without a time, a failed send, is stamped when it is read.)
        assert abs(from_json.occurred_at - parsed.occurred_at) < timedelta(seconds=5)
        assert replace(from_json, occurred_at=parsed.occurred_at) == parsed


def _consult_messages() -> list[tuple[str, FhirMessage]]:
    """A referral's consult as telemedicine announces it (opened paging) and its later steps,
    an episode's consult and one asked first (before and after its referral)."""
    asked_at = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    consult = Consult.for_referral(
        referral_id="r-1",
        requester_org="sikao-hospital",
        consultant_org="trang-hospital",
        at=asked_at,
    )
    paging = consult.moved_to(ConsultStage.PAGING, at=asked_at + timedelta(seconds=1), rung=0)
    accepted = paging.moved_to(
        ConsultStage.ACCEPTED,
        at=asked_at + timedelta(minutes=2),
        consultant="Practitioner/dr-a",
        reason="on call",
    )
    episode = replace(consult, id="tc-episode", episode="ep-1")
    first = replace(consult, id="tc-first", asked_first=True, patient="Patient/p-1")
    linked = replace(first, linked_referral="rf-1")
    source = "urn:test"
    return [
        (
            "requested, paging",
            telemedicine_fhir.teleconsult_requested_message(
                paging, source_endpoint=source, step=step_of(paging, at=paging.requested_at)
            ),
        ),
        (
            "requested",
            telemedicine_fhir.teleconsult_requested_message(consult, source_endpoint=source),
        ),
        (
            "accepted",
            telemedicine_fhir.consult_step_message(
                accepted, step=step_of(accepted, at=asked_at), source_endpoint=source
            ),
        ),
        (
            "an episode's",
            telemedicine_fhir.teleconsult_requested_message(episode, source_endpoint=source),
        ),
        (
            "asked first",
            telemedicine_fhir.teleconsult_requested_message(first, source_endpoint=source),
        ),
        (
            "asked first, linked",
            telemedicine_fhir.teleconsult_requested_message(linked, source_endpoint=source),
        ),
    ]


def test_the_referral_service_reads_a_consults_steps_without_a_model(
    models: list[str],
) -> None:
    message = _relayed(_consult_messages()[0][1])
    assert not fhir_steps.about_an_episode(message)
    assert fhir_steps.asked_first(message) is None
    steps = fhir_steps.teleconsult_steps(message)
    # Was one Task model (kept for the four readings).
    assert models == []
    assert [(s.event, s.detail["stage"]) for s in steps] == [
        (EventCode.TELECONSULT_REQUESTED, "requested"),
        (EventCode.TELECONSULT_UPDATED, "paging"),
    ]


def test_the_json_reading_of_a_consults_steps_says_what_its_model_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(envelope, "CHECK_BUILT_MESSAGES", False)
    for what, built in _consult_messages():
        relayed, parsed = _relayed(built), parse_message(built.to_json())
        for read in (fhir_steps.about_an_episode, fhir_steps.asked_first):
            assert read(relayed) == read(parsed), what
        episode_or_first = fhir_steps.about_an_episode(parsed) or fhir_steps.asked_first(parsed)
        if not episode_or_first:
            assert fhir_steps.teleconsult_steps(relayed) == fhir_steps.teleconsult_steps(parsed), (
                what
            )
    readings = [
        (fhir_steps.about_an_episode(m), fhir_steps.asked_first(m))
        for m in (_relayed(built) for _, built in _consult_messages())
    ]
    assert readings == [
        (False, None),
        (False, None),
        (False, None),
        (True, None),
        (False, "tc-first"),
        (False, None),
    ]
