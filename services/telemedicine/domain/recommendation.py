"""The consultant's structured recommendation: the findings (NIHSS items, vitals, weight,
anticoagulant, glucose, imaging), the thrombolysis checklist, the decision with the dose from
the weight, and the thrombectomy transfer. Signed by the consultant; an amendment is a new
version, never an overwrite. The rules that refuse a recommendation are here. Plain data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from services.telemedicine.domain.dose import Dose, Thrombolytic, dose_for
from services.telemedicine.domain.thrombolysis_checklist import (
    ABSOLUTE_EXCLUSIONS,
    CHECKLIST,
    INCLUSIONS,
    Answer,
)
from shared.errors import InvalidInput, RuleBroken

# NIHSS items and their highest score (the NIH Stroke Scale); the total is at most 42.
NIHSS_ITEMS: Mapping[str, int] = {
    "1a": 3, "1b": 2, "1c": 2, "2": 2, "3": 3, "4": 3, "5a": 4, "5b": 4,
    "6a": 4, "6b": 4, "7": 2, "8": 2, "9": 3, "10": 2, "11": 2,
}  # fmt: skip


class ThrombolysisDecision(StrEnum):
    GIVE = "give"
    DO_NOT_GIVE = "do-not-give"


class LvoSite(StrEnum):
    NONE = "none"
    ICA = "ica"
    M1 = "m1"
    M2 = "m2"
    BASILAR = "basilar"
    OTHER = "other"
    UNKNOWN = "unknown"


@dataclass(frozen=True, kw_only=True)
class Findings:
    nihss_items: Mapping[str, int]
    systolic_mmhg: int
    diastolic_mmhg: int
    heart_rate: int | None = None
    weight_kg: Decimal
    glucose_mg_dl: int
    # The anticoagulant the patient takes (None: none) and when its last dose was taken.
    anticoagulant: str | None = None
    anticoagulant_last_dose: datetime | None = None
    haemorrhage: Answer
    aspects: int | None = None
    lvo_site: LvoSite = LvoSite.UNKNOWN

    @property
    def nihss_total(self) -> int:
        return sum(self.nihss_items.values())


@dataclass(frozen=True, kw_only=True)
class Recommendation:
    findings: Findings
    checklist: Mapping[str, Answer]
    # Why an unanswered ("unknown") item does not stop the decision; required when one is.
    override_reason: str | None = None
    decision: ThrombolysisDecision
    drug: Thrombolytic | None = None
    dose: Dose | None = None
    thrombectomy_transfer: bool
    # The thrombectomy centre (an Organization id) when transferring.
    target_centre: str | None = None
    # Who signed (a Practitioner reference), when, and which version this is (1, 2, ...).
    signed_by: str
    signed_at: datetime
    version: int = 1


class RecommendationRefused(RuleBroken):
    """The recommendation contradicts its own findings (e.g. "give" with an exclusion)."""


def check_findings(findings: Findings) -> None:
    unknown = sorted(set(findings.nihss_items) - set(NIHSS_ITEMS))
    missing = sorted(set(NIHSS_ITEMS) - set(findings.nihss_items))
    if unknown or missing:
        raise InvalidInput(
            f"NIHSS needs exactly its 15 items; unknown: {unknown}, missing: {missing}",
            expression="nihss_items",
        )
    for item, score in findings.nihss_items.items():
        if not 0 <= score <= NIHSS_ITEMS[item]:
            raise InvalidInput(
                f"NIHSS item {item} scores 0-{NIHSS_ITEMS[item]}, not {score}",
                expression=f"nihss_items.{item}",
            )
    if findings.aspects is not None and not 0 <= findings.aspects <= 10:
        raise InvalidInput("ASPECTS is 0-10", expression="aspects")
    if findings.anticoagulant_last_dose is not None and not findings.anticoagulant:
        raise InvalidInput(
            "A last dose needs the anticoagulant it was of", expression="anticoagulant"
        )


def recommend(
    *,
    findings: Findings,
    checklist: Mapping[str, Answer],
    override_reason: str | None,
    decision: ThrombolysisDecision,
    drug: Thrombolytic | None,
    formulary: frozenset[Thrombolytic],
    thrombectomy_transfer: bool,
    target_centre: str | None,
    signed_by: str,
    signed_at: datetime,
    version: int,
) -> Recommendation:
    """The signed recommendation, its dose computed from the weight; refuses a "give" while an
    absolute exclusion is yes (or haemorrhage is seen) or an inclusion is no, and an unknown
    answer without an override reason."""
    check_findings(findings)
    not_asked = sorted(set(CHECKLIST) - set(checklist))
    if not_asked or set(checklist) - set(CHECKLIST):
        raise InvalidInput(
            f"Answer every checklist item (yes/no/unknown); missing: {not_asked}, "
            f"unknown items: {sorted(set(checklist) - set(CHECKLIST))}",
            expression="checklist",
        )
    dose = None
    reason = (override_reason or "").strip() or None
    if decision is ThrombolysisDecision.GIVE:
        _check_give(findings, checklist, reason=reason)
        if drug is None or drug not in formulary:
            raise RecommendationRefused(
                f"Choose a thrombolytic the hospital has: {sorted(formulary)}",
            )
        dose = dose_for(drug, weight_kg=findings.weight_kg)
    elif drug is not None:
        raise InvalidInput("A drug goes only with a 'give' decision", expression="drug")
    if thrombectomy_transfer and not target_centre:
        raise InvalidInput("A thrombectomy transfer needs its target centre", expression="target")
    if not thrombectomy_transfer and target_centre:
        raise InvalidInput("A target centre goes only with a transfer", expression="target")
    return Recommendation(
        findings=findings,
        checklist=dict(checklist),
        override_reason=reason,
        decision=decision,
        drug=drug if dose is not None else None,
        dose=dose,
        thrombectomy_transfer=thrombectomy_transfer,
        target_centre=target_centre,
        signed_by=signed_by,
        signed_at=signed_at,
        version=version,
    )


def _check_give(findings: Findings, checklist: Mapping[str, Answer], *, reason: str | None) -> None:
    excluded = sorted(code for code in ABSOLUTE_EXCLUSIONS if checklist[code] is Answer.YES)
    if findings.haemorrhage is Answer.YES and "intracranial-haemorrhage" not in excluded:
        excluded.append("intracranial-haemorrhage (imaging)")
    if excluded:
        raise RecommendationRefused(
            f"Thrombolysis cannot be given with an absolute exclusion: {', '.join(excluded)}"
        )
    not_included = sorted(code for code in INCLUSIONS if checklist[code] is Answer.NO)
    if not_included:
        raise RecommendationRefused(
            f"Thrombolysis needs every inclusion criterion; not met: {', '.join(not_included)}"
        )
    unknown = sorted(
        code for code in ABSOLUTE_EXCLUSIONS | INCLUSIONS if checklist[code] is Answer.UNKNOWN
    )
    if findings.haemorrhage is Answer.UNKNOWN:
        unknown.append("haemorrhage (imaging)")
    if unknown and reason is None:
        raise RecommendationRefused(
            f"Unanswered items need an override reason to give: {', '.join(unknown)}"
        )
