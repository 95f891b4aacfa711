"""The treatment windows of acute ischaemic stroke, counted from last known well (AHA/ASA 2019
guideline, docs/clinical-metrics.md): routing decides by them, the countdowns and alerts show
them. Pure Python."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum


class TreatmentWindow(StrEnum):
    THROMBOLYSIS = "thrombolysis"
    THROMBECTOMY = "thrombectomy"
    # Selected patients only, after imaging (DAWN, DEFUSE 3).
    THROMBECTOMY_EXTENDED = "thrombectomy-extended"

    @property
    def length(self) -> timedelta:
        """How long after last known well the window closes."""
        return _LENGTH[self]


_LENGTH = {
    TreatmentWindow.THROMBOLYSIS: timedelta(hours=4.5),
    TreatmentWindow.THROMBECTOMY: timedelta(hours=6),
    TreatmentWindow.THROMBECTOMY_EXTENDED: timedelta(hours=24),
}
