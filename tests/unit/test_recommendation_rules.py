"""The recommendation's rules on a table of cases: "give" is refused while an absolute
exclusion is yes (or haemorrhage is seen), an inclusion is no, or an unknown answer has no
override reason; the dose follows the weight and the hospital's formulary; findings are
checked (NIHSS items and ranges, ASPECTS)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from services.telemedicine.domain.dose import Thrombolytic
from services.telemedicine.domain.recommendation import (
    NIHSS_ITEMS,
    Findings,
    RecommendationRefused,
    ThrombolysisDecision,
    recommend,
)
from services.telemedicine.domain.thrombolysis_checklist import (
    ABSOLUTE_EXCLUSIONS,
    CHECKLIST,
    INCLUSIONS,
    Answer,
)
from shared.errors import InvalidInput

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
ALTEPLASE_ONLY = frozenset({Thrombolytic.ALTEPLASE})
BOTH = frozenset(Thrombolytic)
# Every inclusion met, no exclusion: a patient who can be given thrombolysis.
CLEAR = {code: Answer.YES if code in INCLUSIONS else Answer.NO for code in CHECKLIST}


def _findings(**changes: Any) -> Findings:
    values: dict[str, Any] = {
        "nihss_items": dict.fromkeys(NIHSS_ITEMS, 0) | {"5a": 3, "9": 2},
        "systolic_mmhg": 170,
        "diastolic_mmhg": 95,
        "weight_kg": Decimal(70),
        "glucose_mg_dl": 130,
        "haemorrhage": Answer.NO,
        "aspects": 9,
    }
    return Findings(**(values | changes))


def _recommend(
    *,
    checklist: dict[str, Answer] | None = None,
    decision: ThrombolysisDecision = ThrombolysisDecision.GIVE,
    drug: Thrombolytic | None = Thrombolytic.ALTEPLASE,
    override: str | None = None,
    formulary: frozenset[Thrombolytic] = ALTEPLASE_ONLY,
    transfer: bool = False,
    target: str | None = None,
    **findings: Any,
) -> Any:
    return recommend(
        findings=_findings(**findings),
        checklist=CLEAR | (checklist or {}),
        override_reason=override,
        decision=decision,
        drug=drug,
        formulary=formulary,
        thrombectomy_transfer=transfer,
        target_centre=target,
        signed_by="Practitioner/dr-anan",
        signed_at=NOW,
        version=1,
    )


@pytest.mark.parametrize("exclusion", sorted(ABSOLUTE_EXCLUSIONS))
def test_give_is_refused_while_any_absolute_exclusion_is_yes(exclusion: str) -> None:
    with pytest.raises(RecommendationRefused, match=f"absolute exclusion: {exclusion}"):
        _recommend(checklist={exclusion: Answer.YES}, override="decided at the bedside")


@pytest.mark.parametrize("exclusion", sorted(ABSOLUTE_EXCLUSIONS))
def test_do_not_give_is_signed_whatever_the_checklist_says(exclusion: str) -> None:
    signed = _recommend(
        checklist={exclusion: Answer.YES}, decision=ThrombolysisDecision.DO_NOT_GIVE, drug=None
    )
    assert signed.dose is None


CASES: list[tuple[str, dict[str, Any], str | None]] = [
    ("clear checklist", {}, None),
    ("haemorrhage on imaging", {"haemorrhage": Answer.YES}, "absolute exclusion"),
    ("an inclusion not met", {"checklist": {"within-4-5-hours": Answer.NO}}, "not met"),
    ("an unknown exclusion", {"checklist": {"bleeding-diathesis": Answer.UNKNOWN}}, "override"),
    ("an unknown inclusion", {"checklist": {"age-18-or-over": Answer.UNKNOWN}}, "override"),
    ("unknown haemorrhage", {"haemorrhage": Answer.UNKNOWN}, "override"),
    (
        "an unknown with an override reason",
        {"checklist": {"bleeding-diathesis": Answer.UNKNOWN}, "override": "INR pending, no AC"},
        None,
    ),
    (
        "an unknown relative exclusion needs no reason",
        {"checklist": {"pregnancy": Answer.UNKNOWN}},
        None,
    ),
    (
        "blank override",
        {"checklist": {"doac-within-48-hours": Answer.UNKNOWN}, "override": "   "},
        "override",
    ),
    (
        "a relative exclusion is the consultant's call",
        {"checklist": {"pregnancy": Answer.YES}},
        None,
    ),
    ("tenecteplase where the formulary lacks it", {"drug": Thrombolytic.TENECTEPLASE}, "has"),
    ("give without a drug", {"drug": None}, "has"),
]


@pytest.mark.parametrize(("case", "changes", "refusal"), CASES, ids=[c[0] for c in CASES])
def test_give_decisions(case: str, changes: dict[str, Any], refusal: str | None) -> None:
    if refusal is None:
        signed = _recommend(**changes)
        assert signed.dose is not None
        assert signed.dose.total_mg == Decimal("63.0")
    else:
        with pytest.raises(RecommendationRefused, match=refusal):
            _recommend(**changes)


def test_tenecteplase_where_the_formulary_has_it_is_dosed_from_the_weight() -> None:
    signed = _recommend(drug=Thrombolytic.TENECTEPLASE, formulary=BOTH, weight_kg=Decimal(80))
    assert (signed.drug, signed.dose.total_mg, signed.dose.bolus_mg) == (
        Thrombolytic.TENECTEPLASE,
        Decimal("20.0"),
        Decimal("20.0"),
    )


INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("an NIHSS item missing", {"nihss_items": dict.fromkeys(list(NIHSS_ITEMS)[1:], 0)}, "missing"),
    (
        "an NIHSS item out of range",
        {"nihss_items": dict.fromkeys(NIHSS_ITEMS, 0) | {"1a": 4}},
        "0-3",
    ),
    ("ASPECTS out of range", {"aspects": 11}, "ASPECTS"),
    ("a last dose without the drug", {"anticoagulant_last_dose": NOW}, "anticoagulant"),
    ("a transfer without its centre", {"transfer": True}, "target centre"),
    ("a centre without a transfer", {"target": "hatyai-hospital"}, "only with a transfer"),
]


@pytest.mark.parametrize(("case", "changes", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_findings_that_cannot_be_right_are_refused(
    case: str, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        _recommend(**changes)


def test_the_nihss_total_is_the_sum_of_its_items() -> None:
    assert _findings().nihss_total == 5
    assert sum(NIHSS_ITEMS.values()) == 42


def test_every_checklist_item_must_be_answered() -> None:
    unanswered = dict(CLEAR)
    del unanswered["active-internal-bleeding"]
    with pytest.raises(InvalidInput, match="missing: \\['active-internal-bleeding'\\]"):
        recommend(
            findings=_findings(),
            checklist=unanswered,
            override_reason=None,
            decision=ThrombolysisDecision.DO_NOT_GIVE,
            drug=None,
            formulary=ALTEPLASE_ONLY,
            thrombectomy_transfer=False,
            target_centre=None,
            signed_by="Practitioner/dr-anan",
            signed_at=NOW,
            version=1,
        )
