"""The AsyncAPI document tells hospital systems what a teleconsult's messages carry: every event
of a consult and every output its Task can carry (the recommendation's decision, the needle the
spoke confirmed), read from the messages telemedicine really builds."""

from __future__ import annotations

from datetime import UTC, datetime

from services.referral.adapters.asyncapi_document import ASYNCAPI_DESCRIPTION
from services.telemedicine.adapters.recommendation_fhir import (
    needle_confirmed_message,
    recommendation_message,
)
from services.telemedicine.domain.model import Consult
from services.telemedicine.domain.recommendation import ThrombolysisDecision
from shared.fhir.codes import TELECONSULT_OUTPUT_SYSTEM, EventCode
from shared.fhir.envelope import FhirMessage
from shared.fhir.models import Task
from tests.unit.test_recommendation_rules import _recommend

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
CONSULT = Consult.for_referral(
    referral_id="ref-1", requester_org="sikao-hospital", consultant_org="trang-hospital", at=NOW
)


def _output_codes(message: FhirMessage) -> set[str]:
    task = message.focus_resource(Task)
    assert task is not None
    codes = set()
    for output in task.output or []:
        (coding,) = output.type.coding or []
        assert coding.system == TELECONSULT_OUTPUT_SYSTEM
        codes.add(str(coding.code))
    return codes


def test_every_teleconsult_event_is_named() -> None:
    for event in (
        EventCode.TELECONSULT_REQUESTED,
        EventCode.TELECONSULT_UPDATED,
        EventCode.TELECONSULT_RECOMMENDED,
        EventCode.TRANSFER_REQUESTED,
    ):
        assert f"`{event.value}`" in ASYNCAPI_DESCRIPTION, event


def test_every_output_of_a_recommendation_and_of_a_confirmed_needle_is_described() -> None:
    given = recommendation_message(CONSULT, _recommend(), source_endpoint="urn:t")
    transfer = recommendation_message(
        CONSULT,
        _recommend(
            decision=ThrombolysisDecision.DO_NOT_GIVE,
            drug=None,
            transfer=True,
            target="songklanagarind-hospital",
        ),
        source_endpoint="urn:t",
    )
    needle = needle_confirmed_message(
        CONSULT,
        version=1,
        needle_at=NOW,
        confirmed_by="nurse.sikao",
        source_endpoint="urn:t",
        now=NOW,
    )
    outputs = _output_codes(given) | _output_codes(transfer) | _output_codes(needle)
    assert {"thrombolysis", "dose", "target-centre", "needle"} <= outputs
    assert TELECONSULT_OUTPUT_SYSTEM in ASYNCAPI_DESCRIPTION
    for code in outputs:
        assert f"`{code}`" in ASYNCAPI_DESCRIPTION, code
    assert "/consults/{consultId}/needle" in ASYNCAPI_DESCRIPTION
