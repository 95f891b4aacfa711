"""How urgent a treatment window is, as the referral page colours its countdown: open (green),
amber and red before it closes, closed, or done (the treatment was given). Amber an hour before a
window closes and red half an hour before: for thrombolysis that is LKW + 3.5 h and LKW + 4 h,
the moments the time-critical alerts go out (domain/alerts.py); the same lead times for the
thrombectomy windows are a local choice. Pure Python."""

from __future__ import annotations

from enum import StrEnum

from services.referral.domain.windows import TreatmentWindow
from shared.vocabulary.milestones import MilestoneCode

AMBER_MINUTES_LEFT = 60
RED_MINUTES_LEFT = 30


class WindowState(StrEnum):
    OPEN = "open"
    AMBER = "amber"
    RED = "red"
    CLOSED = "closed"
    DONE = "done"  # the treatment the window is for was given


# The milestone that ends a window's countdown: the treatment started.
TREATMENT_OF: dict[TreatmentWindow, MilestoneCode] = {
    TreatmentWindow.THROMBOLYSIS: MilestoneCode.NEEDLE,
    TreatmentWindow.THROMBECTOMY: MilestoneCode.GROIN_PUNCTURE,
    TreatmentWindow.THROMBECTOMY_EXTENDED: MilestoneCode.GROIN_PUNCTURE,
}


def window_state(minutes_left: int, *, treated: bool = False) -> WindowState:
    """``minutes_left``: whole minutes before the window closes, rounded down (negative once
    closed); ``treated``: its treatment was given."""
    if treated:
        return WindowState.DONE
    if minutes_left < 0:
        return WindowState.CLOSED
    if minutes_left <= RED_MINUTES_LEFT:
        return WindowState.RED
    if minutes_left <= AMBER_MINUTES_LEFT:
        return WindowState.AMBER
    return WindowState.OPEN
