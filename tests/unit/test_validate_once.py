"""A message is validated once, where it enters; a built one is written as it was built.

Before, building a message validated the whole Bundle again (a strict parse of what was just
built) and wrote it with the models' serializer; its consumer then validated it once more: two
Bundle validations per hop. Now the consumer's is the only one outside the tests (the test suite
parses every built message back: FT_CHECK_BUILT_MESSAGES, tests/__init__.py).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.provenance import Provenance
from pydantic import BaseModel

from services.referral.adapters.fhir_inbound import request_from_message
from services.referral.adapters.fhir_mapping import (
    answer_focus,
    referral_changed_message,
    referral_requested_message,
)
from services.referral.domain.assessment import (
    Anticoagulant,
    CtResult,
    FastSign,
    StrokeAssessment,
)
from services.referral.domain.commands import (
    ClinicalTime,
    ReferralChange,
    ReportedTime,
    RequestReferral,
)
from services.referral.domain.model import Referral
from services.telemedicine.adapters import fhir_mapping as telemedicine_fhir
from services.telemedicine.domain.model import Consult, ConsultStep
from shared.fhir import envelope
from shared.fhir.codes import EventCode
from shared.fhir.envelope import build_message, parse_message
from shared.fhir.models import Bundle, Communication, CommunicationRequest, Task
from shared.fhir.notifications import notification_request_message, payload_link
from shared.fhir.responses import response_message
from shared.vocabulary.notification_categories import NotificationCategory
from shared.workflow.consult_state import ConsultStage
from shared.workflow.task_state import TaskStatus
from tests.delivery_outcomes import every_outcome_of, page_delivery
from tests.kafka_records import count_validations


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every validation of a whole Bundle, counted."""
    return count_validations(monkeypatch, Bundle)


def _referral_message() -> envelope.FhirMessage:
    task = Task.model_validate(
        {"resourceType": "Task", "id": "r-1", "status": "requested", "intent": "order"}
    )
    return build_message(
        event=EventCode.REFERRAL_REQUESTED,
        sender="Organization/sikao-hospital",
        destinations=["Organization/trang-hospital"],
        focus=[task],
        source_endpoint="urn:test",
    )


def test_building_and_sending_a_message_validates_no_bundle(
    validations: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(envelope, "CHECK_BUILT_MESSAGES", False)
    message = _referral_message()
    # What the outbox reads and writes.
    assert message.message_id
    assert message.event is EventCode.REFERRAL_REQUESTED
    assert message.sender == "Organization/sikao-hospital"
    assert message.destinations == ("Organization/trang-hospital",)
    assert message.focus == ("Task/r-1",)
    message.to_json()
    assert validations == []


def test_the_consumer_of_a_built_message_validates_it_once(
    validations: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(envelope, "CHECK_BUILT_MESSAGES", False)
    received = parse_message(_referral_message().to_json())
    assert validations == ["Bundle"]
    assert received.focus_resource(Task) is not None


def test_the_test_suite_parses_every_built_message_back(
    validations: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(envelope, "CHECK_BUILT_MESSAGES", True)
    _referral_message()
    assert validations == ["Bundle"]


def test_a_built_message_reads_the_same_from_its_json_as_from_its_model() -> None:
    message = _referral_message()
    written = json.loads(message.to_json())
    assert written == message.to_dict()
    # The model made on demand is the same Bundle, and says the same about the message.
    assert message.bundle.model_dump(mode="json", exclude_none=True) == Bundle.model_validate(
        written
    ).model_dump(mode="json", exclude_none=True)
    parsed = parse_message(message.to_json())
    assert (parsed.message_id, parsed.event, parsed.sender, parsed.destinations, parsed.focus) == (
        message.message_id,
        message.event,
        message.sender,
        message.destinations,
        message.focus,
    )
    assert message.header.id == parsed.header.id


def test_a_notification_request_is_written_from_its_builders_json_without_a_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The page to the hub's stroke team is on every referral's path: its CommunicationRequest
    is built as FHIR JSON and written as it is; the suite's check parses it back (valid)."""
    made = count_validations(monkeypatch, BaseModel)
    monkeypatch.setattr(envelope, "CHECK_BUILT_MESSAGES", False)
    message = notification_request_message(
        request_id="page-1",
        category=NotificationCategory.STROKE_ALERT,
        referral_id="r-1",
        recipients=["trang-hospital"],
        english="Stroke referral",
        thai="ส่งต่อผู้ป่วยโรคหลอดเลือดสมอง",
        link="https://fasttrack.example.org/app/referrals/r-1",
        sender="Organization/fasttrack-network",
        source_endpoint="urn:test",
    )
    message.to_json()
    assert made == []
    request = parse_message(message.to_json()).focus_resource(CommunicationRequest)
    assert request is not None
    assert payload_link(request) == "https://fasttrack.example.org/app/referrals/r-1"


def _full_referral_request() -> RequestReferral:
    """A referral with everything a referral message can carry: teleconsult, NIHSS, LKW, LVO,
    the bedside findings and a clinical time of every kind."""
    at = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    return RequestReferral(
        referral_id="r-1",
        request_message_id="m-1",
        requester_org="sikao-hospital",
        owner_org="trang-hospital",
        patient_hn="HN-1",
        patient_gender="female",
        patient_birth_date="1950-02-03",
        last_known_well=at - timedelta(hours=2),
        lkw_source="estimated",
        lkw_uncertain=True,
        nihss=14,
        suspected_lvo=True,
        teleconsult_requested=True,
        requested_at=at,
        accept_by=at + timedelta(minutes=15),
        from_consult="c-1",
        reported_times=tuple(
            ReportedTime(
                kind=kind, occurred_at=at - timedelta(minutes=n), hospital="sikao-hospital"
            )
            for n, kind in enumerate(
                (
                    ClinicalTime.DOOR_IN,
                    ClinicalTime.DOOR_OUT,
                    ClinicalTime.CT_STARTED,
                    ClinicalTime.NEEDLE,
                    ClinicalTime.GROIN_PUNCTURE,
                )
            )
        ),
        assessment=StrokeAssessment(
            fast_signs=frozenset({FastSign.FACE, FastSign.ARM}),
            systolic_bp=180,
            diastolic_bp=100,
            glucose_mg_dl=120,
            anticoagulant=Anticoagulant.NO,
            ct=CtResult.NO_HEMORRHAGE,
        ),
    )


def test_a_referral_is_written_from_its_builders_json_without_a_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every referral's intake builds the referral-requested message: its Task, ServiceRequests,
    Patient, Observations and clinical times are written as FHIR JSON (no model made and dumped
    again: 13 models for this referral before); it parses back valid and says the same."""
    request = _full_referral_request()
    made = count_validations(monkeypatch, BaseModel)
    monkeypatch.setattr(envelope, "CHECK_BUILT_MESSAGES", False)
    message = referral_requested_message(request, source_endpoint="urn:test")
    message.to_json()
    assert made == []
    again = request_from_message(parse_message(message.to_json()), now=request.requested_at)
    assert again.assessment == request.assessment
    assert {t.kind for t in again.reported_times} >= {t.kind for t in request.reported_times}
    assert (again.nihss, again.last_known_well, again.lkw_uncertain, again.suspected_lvo) == (
        14,
        request.last_known_well,
        True,
        True,
    )
    assert (again.teleconsult_requested, again.accept_by) == (True, request.accept_by)
    task = parse_message(message.to_json()).focus_resource(Task)
    assert task is not None
    assert [str(b.reference) for b in task.basedOn or []] == ["Task/c-1"]


def test_a_consults_messages_are_written_from_their_builders_json_without_a_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Telemedicine builds a consult's Task on every step (teleconsult-requested when a
    referral's consult opens, teleconsult-updated on each step, the video's Encounter): written
    as FHIR JSON (before: the Task and the Encounter were made as models and dumped again);
    each parses back valid and says the same."""
    at = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    consult = Consult.for_referral(
        referral_id="r-1",
        requester_org="sikao-hospital",
        consultant_org="trang-hospital",
        at=at,
        patient="Patient/p-r-1",
    )
    made = count_validations(monkeypatch, BaseModel)
    monkeypatch.setattr(envelope, "CHECK_BUILT_MESSAGES", False)
    requested = telemedicine_fhir.teleconsult_requested_message(consult, source_endpoint="urn:t")
    in_video = telemedicine_fhir.consult_step_message(
        consult,
        step=ConsultStep(
            consult_id=consult.id, stage=ConsultStage.IN_VIDEO, occurred_at=at, rung=1
        ),
        source_endpoint="urn:t",
    )
    requested.to_json()
    in_video.to_json()
    assert made == []
    for message in (requested, in_video):
        task = parse_message(message.to_json()).focus_resource(Task)
        assert task is not None
        assert task.id == consult.id
        assert [str(p.reference) for p in task.partOf or []] == ["Task/r-1"]
    encounter = parse_message(in_video.to_json()).first(Encounter)
    assert encounter is not None
    assert encounter.subject is not None
    assert encounter.subject.reference == "Patient/p-r-1"


def test_a_deliverys_outcomes_are_written_from_their_builders_json_without_a_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The notifier tells the referral's timeline about every delivery (sent or failed,
    delivered, acknowledged, escalated) with a Communication: written as FHIR JSON (before: made
    as a model and dumped again for each); each parses back valid and says the same."""
    made = count_validations(monkeypatch, BaseModel)
    monkeypatch.setattr(envelope, "CHECK_BUILT_MESSAGES", False)
    built = every_outcome_of(page_delivery())
    for message in built:
        message.to_json()
    assert made == []
    communications = [parse_message(m.to_json()).focus_resource(Communication) for m in built]
    for communication in communications:
        assert communication is not None
        assert [str(r.reference) for r in communication.about or []] == ["Task/r-1"]
        assert [str(r.reference) for r in communication.basedOn or []] == [
            "CommunicationRequest/page-1"
        ]
        assert [str(r.reference) for r in communication.recipient or []] == [
            "PractitionerRole/neurologist-on-call",
            "Organization/trang-hospital",
        ]
    failed = communications[1]
    assert failed is not None
    assert failed.statusReason is not None
    assert failed.statusReason.text == "webhook answered HTTP 500"
    acknowledged = communications[3]
    assert acknowledged is not None
    assert acknowledged.sender is not None
    assert acknowledged.sender.display == "Dr A"


def test_a_referrals_task_is_written_from_its_builders_json_without_a_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The referral's Task goes out with the intake's answer (POST $process-message) and with
    every step's event (with its Provenance): written as FHIR JSON (before: made as models and
    dumped again); the answer and the event parse back valid and say the same."""
    at = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    referral = Referral(
        id="r-1",
        requester_org="sikao-hospital",
        owner_org="trang-hospital",
        status=TaskStatus.ACCEPTED,
        patient_hn="HN-1",
        last_known_well=None,
        nihss=None,
        suspected_lvo=None,
        teleconsult_requested=False,
        created_at=at,
    )
    request = _referral_message()
    made = count_validations(monkeypatch, BaseModel)
    monkeypatch.setattr(envelope, "CHECK_BUILT_MESSAGES", False)
    answer = response_message(
        request,
        code="ok",
        responder="Organization/fasttrack-network",
        source_endpoint="urn:t",
        focus=[answer_focus(referral)],
    )
    changed = referral_changed_message(
        referral,
        ReferralChange(
            referral_id="r-1",
            event=EventCode.REFERRAL_ACCEPTED,
            sender_org="trang-hospital",
            message_id="m-2",
            task_status=TaskStatus.ACCEPTED,
            status_reason=None,
            occurred_at=at + timedelta(minutes=3),
            correction_reason="typed the wrong time",
        ),
        business_status=None,
        source_endpoint="urn:t",
    )
    answer.to_json()
    changed.to_json()
    assert made == []
    for message in (answer, changed):
        task = parse_message(message.to_json()).focus_resource(Task)
        assert task is not None
        assert (task.id, task.status) == ("r-1", "accepted")
    provenance = parse_message(changed.to_json()).first(Provenance)
    assert provenance is not None
    assert [r.text for r in provenance.reason or []] == ["typed the wrong time"]
