"""What a consumer reads of a relayed record it handles comes from the record's JSON: no model
of the entry is made on the path of every referral.

Telemedicine reads of every referral-requested who the referral is between and whether it asks
for a teleconsult; the referral service reads of every page's outcome what became of it. Each
used to make the entries' models for that: the referral's Task and its ServiceRequest (about
1.7 ms of CPU for each referral, measured on the 2-core machine), the outcome's Communication
(about 0.5 ms, two outcomes for each referral). The readings must still say what the models
said, for relayed records and for messages parsed whole.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel

from services.notifier.adapters import fhir_mapping as notifier_fhir
from services.notifier.domain.model import Channel, Delivery
from services.referral.adapters import fhir_mapping as referral_fhir
from services.referral.adapters import fhir_steps
from services.referral.domain.commands import RequestReferral
from services.telemedicine.adapters import fhir_mapping as telemedicine_fhir
from shared.fhir import envelope
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage, parse_message, read_relayed_message
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


def _delivery() -> Delivery:
    return Delivery(
        id="d-1",
        request_id="m-1/page-1",
        referral_id="r-1",
        recipient="PractitionerRole/neurologist-on-call",
        addressed_to="Organization/trang-hospital",
        channel=Channel.WEBHOOK,
        priority="stat",
        body={},
    )


def _outcomes() -> list[FhirMessage]:
    delivery = _delivery()
    at = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    return [
        notifier_fhir.outcome_message(delivery, sent=True, reason=None, source_endpoint="urn:t"),
        notifier_fhir.outcome_message(
            delivery, sent=False, reason="webhook answered HTTP 500", source_endpoint="urn:t"
        ),
        notifier_fhir.delivered_message(delivery, at=at, source_endpoint="urn:t"),
        notifier_fhir.acknowledged_message(
            delivery,
            acknowledged_by="web:Dr A",
            at=at,
            source_endpoint="urn:t",
            person=("Dr A", "u-1"),
        ),
        notifier_fhir.escalated_message(delivery, step="next rung", source_endpoint="urn:t"),
    ]


def test_the_referral_service_reads_a_pages_outcome_without_a_model(
    models: list[str],
) -> None:
    outcomes = [_relayed(m) for m in _outcomes()]
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
    for built in _outcomes():
        from_json = fhir_steps.notification_outcome_step(_relayed(built))
        parsed = fhir_steps.notification_outcome_step(parse_message(built.to_json()))
        # (An outcome without a time, a failed send, is stamped when it is read.)
        assert abs(from_json.occurred_at - parsed.occurred_at) < timedelta(seconds=5)
        assert replace(from_json, occurred_at=parsed.occurred_at) == parsed
