"""The thrombolysis checklist a consultant answers before advising (yes / no / unknown), after
the AHA/ASA 2019 guideline (Powers et al., Stroke 2019;50:e344) and the alteplase label. Which
items there are, and which are absolute exclusions, is a clinical choice the hub's stroke team
owns: it lives in this one table. Plain data, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class ItemKind(StrEnum):
    # Must be "yes" to give.
    INCLUSION = "inclusion"
    # "yes" forbids giving.
    ABSOLUTE_EXCLUSION = "absolute-exclusion"
    # "yes" asks for the consultant's judgement (recorded with the decision).
    RELATIVE_EXCLUSION = "relative-exclusion"


@dataclass(frozen=True)
class ChecklistItem:
    kind: ItemKind
    english: str


INC, A, R = ItemKind.INCLUSION, ItemKind.ABSOLUTE_EXCLUSION, ItemKind.RELATIVE_EXCLUSION
CHECKLIST: Mapping[str, ChecklistItem] = {
    "age-18-or-over": ChecklistItem(INC, "Aged 18 or over"),
    "measurable-deficit": ChecklistItem(INC, "Measurable, disabling neurological deficit"),
    "within-4-5-hours": ChecklistItem(INC, "Can be treated within 4.5 h of last known well"),
    "intracranial-haemorrhage": ChecklistItem(A, "Intracranial haemorrhage on CT"),
    "extensive-hypodensity": ChecklistItem(A, "Extensive clear hypodensity on CT"),
    "stroke-or-head-injury-3-months": ChecklistItem(
        A, "Ischaemic stroke or severe head injury in the last 3 months"
    ),
    "intracranial-surgery-3-months": ChecklistItem(
        A, "Intracranial or intraspinal surgery in the last 3 months"
    ),
    "gi-bleeding-21-days": ChecklistItem(A, "Gastrointestinal bleeding in the last 21 days"),
    "active-internal-bleeding": ChecklistItem(A, "Active internal bleeding"),
    "bleeding-diathesis": ChecklistItem(
        A, "Platelets < 100,000/mm3, INR > 1.7, aPTT > 40 s or PT > 15 s"
    ),
    "doac-within-48-hours": ChecklistItem(
        A, "Direct oral anticoagulant in the last 48 h (without normal tests)"
    ),
    "full-dose-lmwh-24-hours": ChecklistItem(A, "Treatment-dose heparin (LMWH) in the last 24 h"),
    "bp-above-185-110": ChecklistItem(A, "Blood pressure above 185/110 mmHg despite treatment"),
    "endocarditis-or-aortic-dissection": ChecklistItem(
        A, "Infective endocarditis or aortic arch dissection suspected"
    ),
    "intra-axial-neoplasm": ChecklistItem(A, "Intra-axial intracranial neoplasm"),
    "glucose-below-50": ChecklistItem(R, "Blood glucose below 50 mg/dL (treat, then reassess)"),
    "major-surgery-14-days": ChecklistItem(
        R, "Major surgery or serious trauma in the last 14 days"
    ),
    "seizure-at-onset": ChecklistItem(R, "Seizure at onset with post-ictal deficits"),
    "pregnancy": ChecklistItem(R, "Pregnancy"),
    "myocardial-infarction-3-months": ChecklistItem(
        R, "Myocardial infarction in the last 3 months"
    ),
}
ABSOLUTE_EXCLUSIONS = frozenset(code for code, item in CHECKLIST.items() if item.kind is A)
INCLUSIONS = frozenset(code for code, item in CHECKLIST.items() if item.kind is INC)
