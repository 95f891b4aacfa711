"""The routing document an intake stores with its referral (``decision_json``) is written field
by field from the decision: ``dataclasses.asdict`` deep-copied each reason's code and every
parameter of it, only for the reasons to be replaced by their sentences and codes (22 deep
copies for these five reasons, at every referral the service takes in). The document is the same."""

from __future__ import annotations

import copy
from dataclasses import asdict
from typing import Any

import pytest

from services.referral.domain.routing import CareModel, RoutingDecision
from services.referral.domain.routing_reasons import ReasonCode, RoutingReason
from services.referral.service.intake import decision_json

DECISION = RoutingDecision(
    destination_id="trang-hospital",
    care_model=CareModel.DRIP_AND_SHIP,
    travel_minutes=42.5,
    reasons=(
        RoutingReason.of(ReasonCode.LKW_ELAPSED, hours=1, minutes="05"),
        RoutingReason.of(ReasonCode.LVO_NOT_RECORDED),
        RoutingReason.of(ReasonCode.LKW_ELAPSED, hours=2, minutes="40"),
        RoutingReason.of(ReasonCode.LVO_NOT_RECORDED),
        RoutingReason.of(ReasonCode.LKW_ELAPSED, hours=0, minutes="15"),
    ),
    alternatives=("satun-hospital", "songkhla-hospital"),
)


def _as_the_versions_before_wrote_it(decision: RoutingDecision) -> dict[str, Any]:
    document = asdict(decision)
    document["care_model"] = decision.care_model.value if decision.care_model else None
    document["reasons"] = [str(reason) for reason in decision.reasons]
    document["reason_codes"] = [reason.to_json() for reason in decision.reasons]
    document["alternatives"] = list(decision.alternatives)
    return document


@pytest.fixture
def deep_copies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The type of everything ``copy.deepcopy`` is asked to copy, from now on."""
    copied: list[str] = []
    original = copy.deepcopy

    def counting(value: Any, *args: Any, **kwargs: Any) -> Any:
        copied.append(type(value).__name__)
        return original(value, *args, **kwargs)

    monkeypatch.setattr(copy, "deepcopy", counting)
    return copied


def test_the_routing_document_is_written_without_deep_copies(deep_copies: list[str]) -> None:
    document = decision_json(DECISION)
    assert deep_copies == []  # was 22: each reason's code and parameters, and the other fields
    deep_copies.clear()
    assert document == _as_the_versions_before_wrote_it(DECISION)


@pytest.mark.parametrize(
    "decision",
    [
        RoutingDecision(destination_id=None, care_model=None, travel_minutes=None, reasons=()),
        DECISION,
    ],
)
def test_the_routing_document_has_every_field_of_the_decision(decision: RoutingDecision) -> None:
    """A field added to the decision is a field of the stored document too."""
    assert decision_json(decision) == _as_the_versions_before_wrote_it(decision)
