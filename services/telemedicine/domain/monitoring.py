"""Home-isolation monitoring: a patient at home checks in twice a day (SpO2, temperature,
respiratory rate, heart rate, symptoms); a programme's rules turn each check-in into a level
(green, yellow, red) and the episode's Flag follows it up, never down: only a nurse lowers it,
with a reason. A reading no body can have (SpO2 above 100 %, a temperature of 50 °C) is a
mistyped or misread value: it does not count, the patient is asked to measure again.

Plain data and rules, no I/O. The default thresholds and their public sources are in
docs/home-monitoring.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import IntEnum, StrEnum
from zoneinfo import ZoneInfo

from shared.errors import InvalidInput, RuleBroken


class Vital(StrEnum):
    SPO2 = "spo2"
    TEMPERATURE = "temperature"
    RESPIRATORY_RATE = "respiratory-rate"
    HEART_RATE = "heart-rate"


class Symptom(StrEnum):
    # "No symptoms" is an answer too: a check-in that says the patient is well.
    NONE = "none"
    DYSPNOEA = "dyspnoea"
    CHEST_PAIN = "chest-pain"
    CONFUSION = "confusion"
    FEVER = "fever"
    COUGH = "cough"


class Level(IntEnum):
    """The episode's Flag: higher is worse (the order the board sorts by, reversed)."""

    GREEN = 0
    YELLOW = 1
    RED = 2

    @property
    def code(self) -> str:
        return self.name.lower()

    @classmethod
    def of(cls, code: str) -> Level:
        try:
            return cls[code.upper()]
        except KeyError:
            raise InvalidInput(f"Unknown level {code[:20]!r}: green, yellow or red") from None


@dataclass(frozen=True)
class Threshold:
    """A reading strictly below ``below`` or strictly above ``above`` is at ``level``."""

    vital: Vital
    level: Level
    below: float | None = None
    above: float | None = None

    def breached_by(self, value: float) -> bool:
        return (self.below is not None and value < self.below) or (
            self.above is not None and value > self.above
        )

    def describe(self, value: float) -> str:
        bound = f"< {self.below:g}" if self.below is not None and value < self.below else ""
        bound = bound or f"> {self.above:g}"
        return f"{self.vital.value} {value:g} {bound}: {self.level.code}"


@dataclass(frozen=True)
class Reading:
    vital: Vital
    value: float


@dataclass(frozen=True)
class CheckIn:
    readings: tuple[Reading, ...] = ()
    symptoms: frozenset[Symptom] = frozenset()

    def __post_init__(self) -> None:
        if not self.readings and not self.symptoms:
            raise InvalidInput("A check-in needs at least one reading or symptom answer")


@dataclass(frozen=True)
class Programme:
    """A monitoring programme's rules: the thresholds, which symptoms raise which level, the
    range a reading must lie in to count, when check-ins are due (province time), and how long
    after a missed one the patient is reminded, then the nurses alerted."""

    name: str
    thresholds: tuple[Threshold, ...]
    symptoms: Mapping[Symptom, Level]
    plausible: Mapping[Vital, tuple[float, float]]
    check_in_times: tuple[time, ...] = (time(8, 0), time(18, 0))
    remind_after: timedelta = timedelta(minutes=30)
    alert_after: timedelta = timedelta(hours=2)

    def __post_init__(self) -> None:
        if not self.check_in_times:
            raise ValueError(f"Programme {self.name!r} needs at least one check-in time")
        if not timedelta(0) < self.remind_after < self.alert_after:
            raise ValueError(f"Programme {self.name!r}: 0 < remind after < alert after")


# Readings outside these ranges are misread or mistyped, not measured (see the docs).
PLAUSIBLE: Mapping[Vital, tuple[float, float]] = {
    Vital.SPO2: (50, 100),
    Vital.TEMPERATURE: (30, 45),
    Vital.RESPIRATORY_RATE: (4, 60),
    Vital.HEART_RATE: (25, 250),
}

HOME_ISOLATION = Programme(
    name="home-isolation",
    thresholds=(
        Threshold(Vital.SPO2, Level.RED, below=94),
        Threshold(Vital.SPO2, Level.YELLOW, below=96),
        Threshold(Vital.RESPIRATORY_RATE, Level.RED, above=25),
        Threshold(Vital.RESPIRATORY_RATE, Level.YELLOW, above=20),
        Threshold(Vital.HEART_RATE, Level.RED, above=130),
        Threshold(Vital.HEART_RATE, Level.YELLOW, above=110),
        Threshold(Vital.HEART_RATE, Level.YELLOW, below=50),
        Threshold(Vital.TEMPERATURE, Level.YELLOW, above=39.0),
        Threshold(Vital.TEMPERATURE, Level.YELLOW, below=35.1),
    ),
    symptoms={
        Symptom.DYSPNOEA: Level.RED,
        Symptom.CHEST_PAIN: Level.RED,
        Symptom.CONFUSION: Level.RED,
        Symptom.FEVER: Level.YELLOW,
        Symptom.COUGH: Level.GREEN,
        Symptom.NONE: Level.GREEN,
    },
    plausible=PLAUSIBLE,
)


@dataclass(frozen=True)
class Assessment:
    """What a check-in says: the level its counted readings and symptoms reach, why, and the
    readings that did not count (the patient is asked to measure those again)."""

    level: Level
    reasons: tuple[str, ...] = ()
    implausible: tuple[Reading, ...] = ()

    @property
    def ask_again(self) -> bool:
        return bool(self.implausible)


def is_plausible(reading: Reading, programme: Programme) -> bool:
    low, high = programme.plausible[reading.vital]
    return low <= reading.value <= high


def assess(check_in: CheckIn, programme: Programme) -> Assessment:
    """The level of the plausible readings and symptoms (the worst rule each one breaks); an
    implausible reading is set aside, the others still count (a red SpO2 beside a mistyped
    temperature is red)."""
    implausible = tuple(r for r in check_in.readings if not is_plausible(r, programme))
    level, reasons = Level.GREEN, []
    for reading in check_in.readings:
        if reading in implausible:
            continue
        broken = [t for t in programme.thresholds if t.vital is reading.vital]
        worst = max((t for t in broken if t.breached_by(reading.value)), key=_level, default=None)
        if worst is not None and worst.level > Level.GREEN:
            level = max(level, worst.level)
            reasons.append(worst.describe(reading.value))
    for symptom in sorted(check_in.symptoms):
        symptom_level = programme.symptoms.get(symptom, Level.GREEN)
        if symptom_level > Level.GREEN:
            level = max(level, symptom_level)
            reasons.append(f"{symptom.value}: {symptom_level.code}")
    return Assessment(level=level, reasons=tuple(reasons), implausible=implausible)


def _level(threshold: Threshold) -> Level:
    return threshold.level


class LevelNotLowered(RuleBroken):
    def __init__(self, current: Level, to: Level) -> None:
        super().__init__(
            f"The flag is {current.code}: a nurse may only lower it (to {to.code}, it is not lower)"
        )


@dataclass(frozen=True)
class LevelChange:
    """One move of the episode's Flag: raised by the rules (``by`` None) or lowered by a nurse
    (``by`` the person, with a reason)."""

    before: Level
    after: Level
    at: datetime
    reason: str
    by: str | None = None


def raised(current: Level, assessment: Assessment, *, at: datetime) -> LevelChange | None:
    """Levels rise on their own: a check-in worse than the flag raises it; a better one leaves
    it (only a nurse lowers it)."""
    if assessment.level <= current:
        return None
    return LevelChange(current, assessment.level, at, "; ".join(assessment.reasons))


def lowered(current: Level, to: Level, *, by: str, reason: str, at: datetime) -> LevelChange:
    """A nurse lowers the flag, saying why (kept with their name for the audit)."""
    if not reason.strip():
        raise InvalidInput("Lowering a flag needs a reason", expression="reason")
    if to >= current:
        raise LevelNotLowered(current, to)
    return LevelChange(current, to, at, reason.strip(), by=by)


class Overdue(StrEnum):
    """What a missed check-in calls for: first remind the patient, later alert the nurses."""

    REMIND = "remind"
    ALERT = "alert"


def next_check_in(after: datetime, *, times: Iterable[time], zone: ZoneInfo) -> datetime:
    """The first check-in time of the programme strictly after ``after``."""
    local = after.astimezone(zone)
    candidates = [
        datetime.combine(local.date() + timedelta(days=day), slot, tzinfo=zone)
        for day in (0, 1)
        for slot in times
    ]
    return min(c for c in candidates if c > local)


def overdue(
    *,
    due: datetime,
    now: datetime,
    reminded: bool,
    alerted: bool,
    programme: Programme,
) -> Overdue | None:
    """What a check-in due at ``due`` and not made by ``now`` calls for, once each."""
    if not alerted and now >= due + programme.alert_after:
        return Overdue.ALERT
    if not reminded and not alerted and now >= due + programme.remind_after:
        return Overdue.REMIND
    return None


def risk_rank(level: Level, *, missed: bool) -> int:
    """The board's order: red first, then yellow, then missed check-ins, then green."""
    if level is Level.RED:
        return 0
    if level is Level.YELLOW:
        return 1
    return 2 if missed else 3
