"""What the referring clinician found at the bedside, besides LKW, NIHSS and LVO suspicion: FAST
symptoms, blood pressure, glucose, anticoagulant use and the CT. Immutable, checked on
construction (a value outside what a living patient can have is a typing error, refused with a
reason the form shows). The NIHSS items are the scale's 15 items, each with its own range; their
sum is the total (National Institute of Neurological Disorders and Stroke, NIH Stroke Scale).
Pure Python."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from services.referral.domain.errors import InvalidReferral

# Plausible ranges: outside them the number is a typing error, not a patient.
SYSTOLIC_RANGE = (40, 300)  # mmHg
DIASTOLIC_RANGE = (20, 200)  # mmHg
GLUCOSE_RANGE = (10, 1500)  # mg/dL


class Anticoagulant(StrEnum):
    """Is the patient on an anticoagulant (warfarin, a DOAC)? Unknown is an answer too."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class CtResult(StrEnum):
    """The head CT as the referring hospital read it (before a radiologist's report)."""

    NOT_DONE = "not-done"
    PENDING = "pending"  # done, not read yet
    NO_HEMORRHAGE = "no-hemorrhage"
    HEMORRHAGE = "hemorrhage"


class FastSign(StrEnum):
    """BE-FAST's face, arm and speech signs (the time is last known well)."""

    FACE = "face"
    ARM = "arm"
    SPEECH = "speech"


@dataclass(frozen=True)
class NihssItem:
    code: str  # as the scale numbers it: 1a, 1b, ..., 11
    english: str
    thai: str
    maximum: int


NIHSS_ITEMS: tuple[NihssItem, ...] = (
    NihssItem("1a", "Level of consciousness", "ระดับความรู้สึกตัว", 3),
    NihssItem("1b", "LOC questions", "ตอบคำถาม (เดือน อายุ)", 2),
    NihssItem("1c", "LOC commands", "ทำตามคำสั่ง", 2),
    NihssItem("2", "Best gaze", "การกลอกตา", 2),
    NihssItem("3", "Visual fields", "ลานสายตา", 3),
    NihssItem("4", "Facial palsy", "ใบหน้าอ่อนแรง", 3),
    NihssItem("5a", "Motor arm, left", "แขนซ้าย", 4),
    NihssItem("5b", "Motor arm, right", "แขนขวา", 4),
    NihssItem("6a", "Motor leg, left", "ขาซ้าย", 4),
    NihssItem("6b", "Motor leg, right", "ขาขวา", 4),
    NihssItem("7", "Limb ataxia", "การประสานงานของแขนขา", 2),
    NihssItem("8", "Sensory", "การรับความรู้สึก", 2),
    NihssItem("9", "Best language", "การใช้ภาษา", 3),
    NihssItem("10", "Dysarthria", "การพูดไม่ชัด", 2),
    NihssItem("11", "Extinction and inattention", "การละเลยด้านใดด้านหนึ่ง", 2),
)


def nihss_total(scores: Mapping[str, int]) -> int:
    """The total of the item scores given (an item left out counts 0); refuses an unknown item
    or a score outside the item's range."""
    known = {item.code: item for item in NIHSS_ITEMS}
    total = 0
    for code, score in scores.items():
        item = known.get(code)
        if item is None:
            raise InvalidReferral(f"Unknown NIHSS item {code!r}")
        if not 0 <= score <= item.maximum:
            raise InvalidReferral(
                f"NIHSS item {code} ({item.english}) must be between 0 and {item.maximum}"
            )
        total += score
    return total


@dataclass(frozen=True, kw_only=True)
class StrokeAssessment:
    """The bedside findings a referral carries; None: not recorded."""

    fast_signs: frozenset[FastSign] | None = None
    systolic_bp: int | None = None
    diastolic_bp: int | None = None
    glucose_mg_dl: int | None = None
    anticoagulant: Anticoagulant | None = None
    ct: CtResult | None = None

    def __post_init__(self) -> None:
        if (self.systolic_bp is None) != (self.diastolic_bp is None):
            raise InvalidReferral(
                "Blood pressure needs both systolic and diastolic",
                expression="Observation.component",
            )
        _in_range(
            "Systolic blood pressure must be between %(low)s and %(high)s mmHg",
            self.systolic_bp,
            SYSTOLIC_RANGE,
        )
        _in_range(
            "Diastolic blood pressure must be between %(low)s and %(high)s mmHg",
            self.diastolic_bp,
            DIASTOLIC_RANGE,
        )
        if (
            self.systolic_bp is not None
            and self.diastolic_bp is not None
            and self.diastolic_bp >= self.systolic_bp
        ):
            raise InvalidReferral(
                "Diastolic blood pressure must be below systolic",
                expression="Observation.component",
            )
        _in_range(
            "Glucose must be between %(low)s and %(high)s mg/dL", self.glucose_mg_dl, GLUCOSE_RANGE
        )

    @property
    def empty(self) -> bool:
        return self == StrokeAssessment()

    def as_json(self) -> dict[str, object]:
        """For storage: plain JSON, the fields recorded only."""
        found: dict[str, object] = {}
        if self.fast_signs is not None:
            found["fast_signs"] = sorted(sign.value for sign in self.fast_signs)
        for name in ("systolic_bp", "diastolic_bp", "glucose_mg_dl"):
            value = getattr(self, name)
            if value is not None:
                found[name] = value
        if self.anticoagulant is not None:
            found["anticoagulant"] = self.anticoagulant.value
        if self.ct is not None:
            found["ct"] = self.ct.value
        return found

    @classmethod
    def from_json(cls, document: Mapping[str, object] | None) -> StrokeAssessment:
        document = document or {}
        signs = document.get("fast_signs")

        def number(name: str) -> int | None:
            value = document.get(name)
            return int(value) if isinstance(value, int | float | str) else None

        anticoagulant, ct = document.get("anticoagulant"), document.get("ct")
        return cls(
            fast_signs=(
                frozenset(FastSign(str(s)) for s in signs)
                if isinstance(signs, Sequence) and not isinstance(signs, str)
                else None
            ),
            systolic_bp=number("systolic_bp"),
            diastolic_bp=number("diastolic_bp"),
            glucose_mg_dl=number("glucose_mg_dl"),
            anticoagulant=Anticoagulant(str(anticoagulant)) if anticoagulant else None,
            ct=CtResult(str(ct)) if ct else None,
        )


def _in_range(sentence: str, value: int | None, bounds: tuple[int, int]) -> None:
    """Refuses a value out of ``bounds`` with ``sentence`` (%(low)s and %(high)s filled in)."""
    low, high = bounds
    if value is not None and not low <= value <= high:
        raise InvalidReferral(
            sentence, expression="Observation.value", params={"low": low, "high": high}
        )
