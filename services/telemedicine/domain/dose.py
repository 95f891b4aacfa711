"""Thrombolytic doses from the patient's weight (the product labels, as the AHA/ASA 2019
guideline quotes them):

- alteplase 0.9 mg/kg, at most 90 mg: 10% as a bolus over 1 minute, the rest infused over 60;
- tenecteplase 0.25 mg/kg, at most 25 mg, one bolus (given only where the hospital's formulary
  has it).

Doses are rounded to 0.1 mg (what a syringe is read to). Plain arithmetic, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from shared.errors import InvalidInput


class Thrombolytic(StrEnum):
    ALTEPLASE = "alteplase"
    TENECTEPLASE = "tenecteplase"


_MG_PER_KG = {Thrombolytic.ALTEPLASE: Decimal("0.9"), Thrombolytic.TENECTEPLASE: Decimal("0.25")}
_MAX_MG = {Thrombolytic.ALTEPLASE: Decimal(90), Thrombolytic.TENECTEPLASE: Decimal(25)}
_ALTEPLASE_BOLUS_SHARE = Decimal("0.1")
# Outside these a weight is a typing error, not a patient (kg).
MIN_WEIGHT_KG, MAX_WEIGHT_KG = Decimal(20), Decimal(300)
_TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Dose:
    drug: Thrombolytic
    total_mg: Decimal
    bolus_mg: Decimal
    infusion_mg: Decimal
    # Minutes the infusion runs (0: the whole dose is one bolus).
    infusion_minutes: int


def dose_for(drug: Thrombolytic, *, weight_kg: Decimal) -> Dose:
    if not MIN_WEIGHT_KG <= weight_kg <= MAX_WEIGHT_KG:
        raise InvalidInput(
            f"A weight of {weight_kg} kg is outside {MIN_WEIGHT_KG}-{MAX_WEIGHT_KG} kg",
            expression="weight_kg",
        )
    total = min(weight_kg * _MG_PER_KG[drug], _MAX_MG[drug]).quantize(_TENTH, ROUND_HALF_UP)
    if drug is Thrombolytic.TENECTEPLASE:
        return Dose(drug, total, total, Decimal("0.0"), 0)
    bolus = (total * _ALTEPLASE_BOLUS_SHARE).quantize(_TENTH, ROUND_HALF_UP)
    return Dose(drug, total, bolus, total - bolus, 60)
