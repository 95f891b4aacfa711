"""Thrombolytic doses from a table of weights: alteplase 0.9 mg/kg (at most 90 mg, 10% as the
bolus), tenecteplase 0.25 mg/kg (at most 25 mg, one bolus); weights that are typing errors are
refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.telemedicine.domain.dose import Dose, Thrombolytic, dose_for
from shared.errors import InvalidInput

ALTEPLASE, TENECTEPLASE = Thrombolytic.ALTEPLASE, Thrombolytic.TENECTEPLASE
D = Decimal

# weight kg -> (total, bolus, infusion) mg, worked out by hand.
ALTEPLASE_TABLE = [
    ("20", "18.0", "1.8", "16.2"),
    ("50", "45.0", "4.5", "40.5"),
    ("63.5", "57.2", "5.7", "51.5"),  # 57.15 rounds half up to 57.2; its tenth 5.72 to 5.7
    ("70", "63.0", "6.3", "56.7"),
    ("99.9", "89.9", "9.0", "80.9"),
    ("100", "90.0", "9.0", "81.0"),  # exactly the cap
    ("120", "90.0", "9.0", "81.0"),  # above it: the cap
    ("300", "90.0", "9.0", "81.0"),
]
TENECTEPLASE_TABLE = [
    ("20", "5.0"),
    ("50", "12.5"),
    ("63.5", "15.9"),  # 15.875
    ("70", "17.5"),
    ("100", "25.0"),  # exactly the cap
    ("120", "25.0"),
]


@pytest.mark.parametrize(("weight", "total", "bolus", "infusion"), ALTEPLASE_TABLE)
def test_alteplase_is_0_9_mg_per_kg_at_most_90_with_a_tenth_as_bolus(
    weight: str, total: str, bolus: str, infusion: str
) -> None:
    assert dose_for(ALTEPLASE, weight_kg=D(weight)) == Dose(
        ALTEPLASE, D(total), D(bolus), D(infusion), 60
    )


@pytest.mark.parametrize(("weight", "total"), TENECTEPLASE_TABLE)
def test_tenecteplase_is_0_25_mg_per_kg_at_most_25_in_one_bolus(weight: str, total: str) -> None:
    assert dose_for(TENECTEPLASE, weight_kg=D(weight)) == Dose(
        TENECTEPLASE, D(total), D(total), D("0.0"), 0
    )


@pytest.mark.parametrize("weight", ["0", "19.9", "300.1", "700"])
@pytest.mark.parametrize("drug", list(Thrombolytic))
def test_a_weight_no_patient_has_is_refused(drug: Thrombolytic, weight: str) -> None:
    with pytest.raises(InvalidInput, match="outside 20-300 kg"):
        dose_for(drug, weight_kg=D(weight))
