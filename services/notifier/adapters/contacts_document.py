"""The directory file's format (FT_NOTIFIER_CONTACTS_FILE; deploy/demo/contacts.example.json)
read by pydantic models: a broken edit is refused naming where it is broken as a path in the
document (``hospitals.trang-hospital.roles.neuro.shifts.0.start: ...``), never half taken up.

The models only read the document; ``directory_from`` turns it into the domain's ContactBook,
whose own checks (a roster names only known people, a hospital pages only its roles) name
their entry the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from services.notifier.domain.contacts import ContactBook
from services.notifier.domain.directory import (
    ContactPoint,
    DirectoryError,
    EscalationPolicy,
    EscalationStep,
    HospitalContacts,
    OnCallRole,
    Person,
    Shift,
)
from services.notifier.domain.model import Channel
from shared.province_time import PROVINCE_ZONE_NAME

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Language = Literal["th", "en"]


def _weekday(value: str) -> str:
    if value not in WEEKDAYS:
        raise ValueError(f"unknown weekday {value!r}; use {', '.join(WEEKDAYS)}")
    return value


Weekday = Annotated[str, AfterValidator(_weekday)]


def _iso(kind: type[time] | type[date]) -> BeforeValidator:
    """Only ISO text ("16:00", "2026-12-31"): pydantic would also read a number as seconds."""

    expected = "HH:MM" if kind is time else "YYYY-MM-DD"

    def parse(value: object) -> object:
        if not isinstance(value, str):
            raise ValueError(f"expected {expected} as text")
        try:
            return kind.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not {expected}") from None

    return BeforeValidator(parse)


LocalTime = Annotated[time, _iso(time)]
Day = Annotated[date, _iso(date)]


class _Entry(BaseModel):
    # A misspelt key ("supervisr") is refused rather than silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class ContactPointEntry(_Entry):
    channel: Channel
    address: str = ""

    def point(self) -> ContactPoint:
        return ContactPoint(self.channel, self.address)


class PersonEntry(_Entry):
    # Tried in order: the first, then the next when one finally fails.
    channels: list[ContactPointEntry] = []
    language: Language = "th"


class ShiftEntry(_Entry):
    person: str = Field(min_length=1)
    start: LocalTime
    end: LocalTime
    days: list[Weekday] = []
    date: Day | None = None

    @model_validator(mode="after")
    def _weekly_or_dated(self) -> ShiftEntry:
        if bool(self.days) == (self.date is not None):
            raise ValueError("a shift needs either 'days' or 'date'")
        return self

    def shift(self) -> Shift:
        return Shift(
            person=self.person,
            start=self.start,
            end=self.end,
            weekdays=frozenset(WEEKDAYS.index(day) for day in self.days),
            on_date=self.date,
        )


class RoleEntry(_Entry):
    shifts: list[ShiftEntry] = []
    backup: str | None = None


class HospitalEntry(_Entry):
    channels: list[ContactPointEntry] = []
    webhook: bool = False
    group: ContactPointEntry | None = None
    supervisor: ContactPointEntry | None = None
    language: Language = "en"
    roles: dict[str, RoleEntry] = {}
    on_call: dict[str, str] = {}

    def hospital(self) -> HospitalContacts:
        return HospitalContacts(
            channels=tuple(point.point() for point in self.channels),
            webhook=self.webhook,
            group=self.group.point() if self.group else None,
            supervisor=self.supervisor.point() if self.supervisor else None,
            language=self.language,
            roles={
                name: OnCallRole(
                    shifts=tuple(shift.shift() for shift in role.shifts), backup=role.backup
                )
                for name, role in self.roles.items()
            },
            on_call=dict(self.on_call),
        )


class EscalationEntry(_Entry):
    ack_within_s: float = Field(default=300, gt=0)
    ladder: list[EscalationStep] = list(EscalationPolicy().ladder)


class DirectoryDocument(_Entry):
    # Free text for whoever edits the file.
    comment: str | None = Field(default=None, alias="_comment")
    timezone: str = PROVINCE_ZONE_NAME
    people: dict[str, PersonEntry] = {}
    hospitals: dict[str, HospitalEntry] = {}
    escalation: EscalationEntry = EscalationEntry()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r}") from None
        return name

    def book(self) -> ContactBook:
        """Raises DirectoryError when the entries disagree (an unknown person or role)."""
        return ContactBook(
            {organization: entry.hospital() for organization, entry in self.hospitals.items()},
            EscalationPolicy(
                ack_within=timedelta(seconds=self.escalation.ack_within_s),
                ladder=tuple(self.escalation.ladder),
            ),
            people={
                person_id: Person(
                    id=person_id,
                    channels=tuple(point.point() for point in entry.channels),
                    language=entry.language,
                )
                for person_id, entry in self.people.items()
            },
            timezone=self.timezone,
        )


def directory_from(document: Mapping[str, Any]) -> ContactBook:
    """The ContactBook a directory document describes; raises DirectoryError naming every
    broken entry by its path in the document."""
    try:
        parsed = DirectoryDocument.model_validate(document)
    except ValidationError as error:
        raise DirectoryError(f"invalid contacts directory: {_described(error)}") from None
    try:
        return parsed.book()
    except DirectoryError as error:
        raise DirectoryError(f"invalid contacts directory: {error}") from None


def _described(error: ValidationError) -> str:
    """``path: message`` per problem (the value itself is left out: addresses are personal)."""
    problems = [
        f"{'.'.join(str(part) for part in problem['loc']) or '(document)'}: "
        f"{problem['msg'].removeprefix('Value error, ')}"
        for problem in error.errors(include_url=False, include_input=False)
    ]
    return "; ".join(problems)
