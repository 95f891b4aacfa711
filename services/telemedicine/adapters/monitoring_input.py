"""What a hospital system or a nurse's form sends to enrol a patient, lower a flag or finish an
episode, checked before any use case runs (a wrong field is a 422 naming it)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field

from services.telemedicine.domain.episode import FinishReason

_ID = r"[A-Za-z0-9\-\.]{1,64}"
# A care team member: a Practitioner reference (checked here: the CareTeam resource refuses
# anything else later, which would be a server error instead of a 422).
_Member = Annotated[str, Field(pattern=rf"^Practitioner/{_ID}$")]


class EnrolmentIn(BaseModel):
    """A patient enrolled for home isolation by the caller's hospital (which manages it)."""

    patient: str = Field(pattern=rf"^Patient/{_ID}$")
    # The hospital number the nurses know the patient by (shown on their board).
    hospital_number: str = Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9\-/]+$")
    # The hub whose on-call consultant a red flag pages (default: the service's setting).
    consultant_hospital: str | None = Field(default=None, pattern=rf"^{_ID}$")
    programme: str = Field(default="home-isolation", max_length=64)
    # The patient's or caregiver's LINE user id and/or mobile phone, for reminders.
    line_user: str | None = Field(default=None, pattern=r"^U[A-Za-z0-9\-]{1,64}$")
    phone: str | None = Field(default=None, pattern=r"^0[0-9]{8,9}$")
    language: Literal["th", "en"] = "th"
    care_team: list[_Member] = Field(default_factory=list, max_length=10)
    # When the first check-in is due (default: the programme's next check-in time).
    first_check_in: AwareDatetime | None = None


class LowerIn(BaseModel):
    level: Literal["green", "yellow"]
    reason: str = Field(min_length=1, max_length=200)
    # The nurse who lowers it (a Practitioner reference), for the audit.
    by: str = Field(pattern=rf"^Practitioner/{_ID}$")


class FinishIn(BaseModel):
    # A code, never free text: the story stays in the hospital's own record.
    reason: FinishReason
    # The nurse or doctor who ends it (a Practitioner reference), for the audit.
    by: str = Field(pattern=rf"^Practitioner/{_ID}$")
