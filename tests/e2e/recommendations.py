"""A consultant's signed recommendation as telemedicine's REST API takes it, for the e2e tests
of what a recommendation does (refused, versioned, on the timeline, starting a transfer)."""

from __future__ import annotations

from typing import Any

from services.telemedicine.domain.recommendation import NIHSS_ITEMS
from services.telemedicine.domain.thrombolysis_checklist import CHECKLIST, INCLUSIONS

# Every inclusion met, no exclusion.
CLEAR = {code: "yes" if code in INCLUSIONS else "no" for code in CHECKLIST}


def signed_recommendation(**changes: Any) -> dict[str, Any]:
    """Give alteplase to a 70 kg patient with a left M1 occlusion (63 mg), unless ``changes``
    say otherwise."""
    return {
        "signed_by": "dr-trang-neuro",
        "findings": {
            "nihss_items": dict.fromkeys(NIHSS_ITEMS, 0) | {"5a": 3, "9": 2},
            "systolic_mmhg": 172,
            "diastolic_mmhg": 96,
            "weight_kg": "70.0",
            "glucose_mg_dl": 128,
            "anticoagulant": None,
            "haemorrhage": "no",
            "aspects": 9,
            "lvo_site": "m1",
        },
        "checklist": CLEAR,
        "decision": "give",
        "drug": "alteplase",
        "thrombectomy_transfer": False,
    } | changes
