"""A patient's stroke clock: the milestones (docs/clinical-metrics.md), each with its clinical and
recorded time, how sure it is, and the hospital where it happened.

One patient has one clock, whatever the referrals it took to find a hospital (a re-routed
referral shares its patient's clock). Every datetime must be time-zone aware; durations are then
right whatever zone each one carries (hospital systems mix +07:00 and UTC).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shared.province_time import PROVINCE_ZONE
from shared.vocabulary.milestones import MilestoneCode


class TimeSource(StrEnum):
    RECORDED = "recorded"
    DEVICE = "device"
    ESTIMATED = "estimated"


class Place(StrEnum):
    """Where a milestone happened, by the hospital's role for this patient."""

    FIRST = "first"  # the hospital the patient came to first (the spoke, sending)
    RECEIVING = "receiving"  # the hospital the patient was transferred to (the hub)
    ELSEWHERE = "elsewhere"  # neither: in transit, or a third hospital


def require_aware(name: str, moment: datetime) -> None:
    # A naive time cannot be compared with the others without guessing its zone.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must carry a time zone: {moment.isoformat()}")


@dataclass(frozen=True)
class Milestone:
    code: MilestoneCode
    occurred_at: datetime  # when it happened clinically
    recorded_at: datetime  # when the system learned of it
    source: TimeSource = TimeSource.RECORDED
    uncertain: bool = False
    # The hospital (Organization id) where it happened; None when nobody said.
    hospital: str | None = None

    def __post_init__(self) -> None:
        require_aware("occurred_at", self.occurred_at)
        require_aware("recorded_at", self.recorded_at)

    @property
    def doubtful(self) -> bool:
        return self.uncertain or self.source is TimeSource.ESTIMATED


M = MilestoneCode


def latest_by_code(milestones: Iterable[Milestone]) -> dict[MilestoneCode, Milestone]:
    """One milestone per code: a later record of the same code corrects an earlier one."""
    latest: dict[MilestoneCode, Milestone] = {}
    for milestone in milestones:
        seen = latest.get(milestone.code)
        if seen is None or milestone.recorded_at >= seen.recorded_at:
            latest[milestone.code] = milestone
    return latest


class Clock:
    """A patient's milestones, read by the role of the hospital where each happened."""

    def __init__(self, milestones: Iterable[Milestone]) -> None:
        self.milestones = tuple(milestones)
        self.latest = latest_by_code(self.milestones)
        first = self.latest.get(M.DOOR_IN_FIRST)
        receiving = self.latest.get(M.DOOR_IN_RECEIVING)
        self.first_hospital = first.hospital if first else None
        self.receiving_hospital = receiving.hospital if receiving else None

    def get(self, code: MilestoneCode) -> Milestone | None:
        """The latest report of ``code``, wherever it happened."""
        return self.latest.get(code)

    def place(self, milestone: Milestone) -> Place:
        """The role of the hospital where ``milestone`` happened. A milestone that names its
        hospital is placed by it; one that does not is placed by time (before the patient
        left the first hospital, or after arriving at the receiving one)."""
        if milestone.hospital is not None and (self.first_hospital or self.receiving_hospital):
            if milestone.hospital == self.first_hospital:
                return Place.FIRST
            if milestone.hospital == self.receiving_hospital:
                return Place.RECEIVING
            # A hospital that is not the first: the receiving one before its door-in is known.
            return Place.ELSEWHERE
        arrived = self.latest.get(M.DOOR_IN_RECEIVING)
        if arrived is not None and milestone.occurred_at >= arrived.occurred_at:
            return Place.RECEIVING
        left = self.latest.get(M.DOOR_OUT_FIRST)
        if left is not None and milestone.occurred_at > left.occurred_at:
            return Place.ELSEWHERE
        return Place.FIRST

    def at(self, code: MilestoneCode, place: Place) -> Milestone | None:
        """The latest report of ``code`` among those that happened at ``place``; a hospital
        correcting its own time replaces it, another hospital's time stays its own."""
        found = [m for m in self.milestones if m.code is code and self.place(m) is place]
        return latest_by_code(found).get(code)

    def earliest(self, code: MilestoneCode) -> Milestone | None:
        """The earliest in clinical time of ``code`` across hospitals (each one's latest)."""
        per_hospital: dict[str | None, Milestone] = {}
        for milestone in self.milestones:
            if milestone.code is not code:
                continue
            seen = per_hospital.get(milestone.hospital)
            if seen is None or milestone.recorded_at >= seen.recorded_at:
                per_hospital[milestone.hospital] = milestone
        return min(per_hospital.values(), key=lambda m: m.occurred_at, default=None)


def bangkok_month(moment: datetime) -> str:
    """The "YYYY-MM" of ``moment`` on a Bangkok calendar (KPIs are reported by local month)."""
    require_aware("moment", moment)
    return f"{moment.astimezone(PROVINCE_ZONE):%Y-%m}"
