"""A patient's home-isolation episode (FHIR EpisodeOfCare with its CarePlan of check-ins and a
care team): who manages it, whom a red flag pages, how the patient is reached, and where its
flag and check-in clock stand. Plain data, no I/O."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.telemedicine.domain.monitoring import (
    Level,
    LevelChange,
    Programme,
    next_check_in,
)
from shared.errors import InvalidInput
from shared.province_time import PROVINCE_ZONE


class FinishReason(StrEnum):
    """Why the managing hospital ends an episode: a code, so no free text about the patient is
    kept here (the hospital's own record holds the story)."""

    # The monitoring period is over and the patient is well.
    COMPLETED = "completed"
    # The patient was admitted to a hospital: the ward watches them now.
    ADMITTED = "admitted"
    # The patient or family left the programme (declined, moved away, unreachable).
    WITHDRAWN = "withdrawn"
    DIED = "died"

    @classmethod
    def of(cls, code: str) -> FinishReason:
        try:
            return cls(code)
        except ValueError:
            known = ", ".join(reason.value for reason in cls)
            raise InvalidInput(
                f"Unknown reason {code[:20]!r}: one of {known}", expression="reason"
            ) from None


@dataclass(frozen=True, kw_only=True)
class Episode:
    id: str
    # The hospital whose nurses watch the patient (EpisodeOfCare.managingOrganization).
    hospital: str
    # The hospital whose on-call consultant a red flag pages (a teleconsult).
    consultant_hospital: str
    # A Patient reference, and the hospital number the nurses know the patient by.
    patient: str
    hospital_number: str
    programme: str
    started_at: datetime
    # When the next check-in is due; whether the patient was reminded of it, the nurses alerted.
    next_check_in: datetime
    reminded: bool = False
    alerted: bool = False
    level: Level = Level.GREEN
    level_since: datetime | None = None
    last_check_in: datetime | None = None
    # How the patient or caregiver is reached: a LINE user id, a phone number (either or both).
    line_user: str | None = None
    phone: str | None = None
    language: str = "th"
    # The care team: Practitioner references of the nurses (and doctors) following the patient.
    care_team: tuple[str, ...] = ()
    # Teleconsults started by red flags (one per rise to red).
    consults_started: int = 0
    # Finished: no reminders, no alerts, no check-ins, off the board. An episode the PDPA purge
    # finished has no time, reason or person.
    finished: bool = False
    finished_at: datetime | None = None
    finish_reason: FinishReason | None = None
    finished_by: str | None = None

    def finish(self, *, at: datetime, reason: FinishReason, by: str) -> Episode:
        """Ends the episode; one already finished stays as it was finished (a retry changes
        nothing)."""
        if self.finished:
            return self
        return dataclasses.replace(
            self, finished=True, finished_at=at, finish_reason=reason, finished_by=by
        )

    def checked_in(self, *, at: datetime, programme: Programme) -> Episode:
        """After a check-in that counted: the next one is due at the programme's next time."""
        return dataclasses.replace(
            self,
            last_check_in=at,
            next_check_in=next_check_in(at, times=programme.check_in_times, zone=PROVINCE_ZONE),
            reminded=False,
            alerted=False,
        )

    def with_level(self, change: LevelChange) -> Episode:
        return dataclasses.replace(self, level=change.after, level_since=change.at)

    def missed(self, now: datetime) -> bool:
        """The patient's check-in is overdue (the nurses were alerted)."""
        return self.alerted and now >= self.next_check_in
