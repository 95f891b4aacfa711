"""Who is reached how: the notifier's directory of hospitals, people, roles and on-call rosters.
Plain data and rules, no I/O.

A notification names its recipients as FHIR references, resolved here:

- ``Practitioner/<person>``: that person, on their channels in order of preference;
- ``PractitionerRole/<hospital>.<role>``: whoever is on call for that role at that hospital now
  (the roster's shifts, in the directory's time zone), or the role's backup when nobody is;
- ``Group/<hospital>``: the hospital's team group (e.g. the stroke team's LINE group);
- ``Organization/<hospital>``: the person on call for the role the hospital pages for that kind
  of notification (``on_call``), else the hospital's own channels (a ward phone, a team group).

A hospital whose system takes webhooks also gets a signed copy of everything addressed to it,
and its web pages get every notification as a live event. When a channel finally fails, the
recipient's next channel is tried (LINE -> SMS).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from services.notifier.domain.model import Channel
from shared.province_time import PROVINCE_ZONE_NAME

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Notifications whose category has no role of its own go to the role listed under this key.
ANY_CATEGORY = "*"


class DirectoryError(ValueError):
    """The directory document is inconsistent (an unknown person, a bad shift)."""


@dataclass(frozen=True)
class ContactPoint:
    channel: Channel
    address: str = ""


@dataclass(frozen=True)
class Person:
    id: str
    # Tried in order: the first, then the next when one finally fails.
    channels: tuple[ContactPoint, ...] = ()
    language: str = "th"


@dataclass(frozen=True)
class Shift:
    """One person on call from ``start`` to ``end`` (local time) on the given weekdays, or on one
    date. A shift that ends at or before its start runs past midnight into the next day."""

    person: str
    start: time
    end: time
    weekdays: frozenset[int] = frozenset()
    on_date: date | None = None

    def covers(self, moment: datetime) -> bool:
        """Whether ``moment`` (local time) falls in this shift, started today or yesterday."""
        today = moment.date()
        return any(self._covers_from(day, moment) for day in (today, today - timedelta(days=1)))

    def _covers_from(self, day: date, moment: datetime) -> bool:
        if self.on_date is not None:
            if day != self.on_date:
                return False
        elif day.weekday() not in self.weekdays:
            return False
        begins = datetime.combine(day, self.start, moment.tzinfo)
        ends = datetime.combine(day, self.end, moment.tzinfo)
        if ends <= begins:
            ends += timedelta(days=1)
        return begins <= moment < ends


@dataclass(frozen=True)
class OnCallRole:
    shifts: tuple[Shift, ...] = ()
    # Paged when nobody is on call, and by the ladder's "backup" step.
    backup: str | None = None

    def on_call(self, moment: datetime) -> list[str]:
        """Who is on call at ``moment``: a shift for that date replaces the weekly roster."""
        dated = [s.person for s in self.shifts if s.on_date is not None and s.covers(moment)]
        if dated:
            return list(dict.fromkeys(dated))
        weekly = [s.person for s in self.shifts if s.on_date is None and s.covers(moment)]
        return list(dict.fromkeys(weekly))


@dataclass(frozen=True)
class HospitalContacts:
    # The hospital's own channels (a ward phone, a team e-mail), tried in order.
    channels: tuple[ContactPoint, ...] = ()
    webhook: bool = False
    # Escalation targets: the team's group (e.g. a LINE group) and the supervisor.
    group: ContactPoint | None = None
    supervisor: ContactPoint | None = None
    # The language its people read notifications in ("th" or "en").
    language: str = "en"
    roles: Mapping[str, OnCallRole] = field(default_factory=dict)
    # Notification category -> the role paged for it when the hospital is addressed.
    on_call: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Recipient:
    """Someone a notification reaches: what they are called on the timeline, their channels,
    and the hospital and role they were reached through (what escalation climbs from)."""

    reference: str
    channels: tuple[ContactPoint, ...]
    language: str
    hospital: str = ""
    role: str = ""


class EscalationStep(StrEnum):
    # These two page again whoever the previous step paged (at first, the person on call).
    REPEAT = "repeat"  # on the same channel
    NEXT_CHANNEL = "next-channel"  # on their next channel (e.g. SMS)
    GROUP = "group"  # the whole team
    BACKUP = "backup"  # the role's backup person
    SUPERVISOR = "supervisor"


@dataclass(frozen=True)
class EscalationPolicy:
    """An alert that needs acknowledgement and has none after ``ack_within`` goes one step up
    the ladder, and again after each further ``ack_within`` (a local choice)."""

    ack_within: timedelta = timedelta(minutes=5)
    ladder: tuple[EscalationStep, ...] = (
        EscalationStep.REPEAT,
        EscalationStep.GROUP,
        EscalationStep.BACKUP,
        EscalationStep.SUPERVISOR,
    )


# Without a contacts file every hospital is reached through the configured webhook.
WEBHOOK_ONLY = HospitalContacts(webhook=True)


class ContactBook:
    def __init__(
        self,
        hospitals: Mapping[str, HospitalContacts] | None = None,
        escalation: EscalationPolicy | None = None,
        *,
        people: Mapping[str, Person] | None = None,
        timezone: str = PROVINCE_ZONE_NAME,
    ) -> None:
        self._hospitals = dict(hospitals or {})
        self._people = dict(people or {})
        self.escalation = escalation or EscalationPolicy()
        self.timezone = ZoneInfo(timezone)
        self._check()

    def replace_with(self, other: ContactBook) -> None:
        """Takes over another book's entries (a roster file edited while the notifier runs)."""
        self._hospitals, self._people = other._hospitals, other._people
        self.escalation, self.timezone = other.escalation, other.timezone

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> ContactBook:
        """Reads the directory document (see deploy/demo/contacts.example.json).

        Raises DirectoryError (a ValueError) naming what is wrong."""
        try:
            escalation = document.get("escalation", {})
            return cls(
                {
                    organization: _hospital(entry)
                    for organization, entry in document.get("hospitals", {}).items()
                },
                EscalationPolicy(
                    ack_within=timedelta(seconds=float(escalation.get("ack_within_s", 300))),
                    ladder=tuple(
                        EscalationStep(step)
                        for step in escalation.get(
                            "ladder", [s.value for s in EscalationPolicy().ladder]
                        )
                    ),
                ),
                people={
                    person_id: Person(
                        id=person_id,
                        channels=tuple(_point(p) for p in entry.get("channels", [])),
                        language=str(entry.get("language", "th")),
                    )
                    for person_id, entry in document.get("people", {}).items()
                },
                timezone=str(document.get("timezone", PROVINCE_ZONE_NAME)),
            )
        except DirectoryError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise DirectoryError(f"invalid contacts directory: {error!r}") from error

    def _check(self) -> None:
        for organization, hospital in self._hospitals.items():
            for role_name, role in hospital.roles.items():
                named = [s.person for s in role.shifts] + ([role.backup] if role.backup else [])
                for person in named:
                    if person not in self._people:
                        raise DirectoryError(
                            f"{organization} role {role_name}: unknown person {person!r}"
                        )
            for category, role_name in hospital.on_call.items():
                if role_name not in hospital.roles:
                    raise DirectoryError(
                        f"{organization} pages unknown role {role_name!r} for {category!r}"
                    )

    # -- resolution -------------------------------------------------------------------------

    def resolve(self, reference: str, *, category: str, at: datetime) -> list[Recipient]:
        """The people (or team channels) ``reference`` reaches at ``at``; [] when none."""
        kind, _, identifier = reference.partition("/")
        if kind == "Practitioner":
            person = self._people.get(identifier)
            return [self._person(person)] if person is not None else []
        if kind == "PractitionerRole":
            organization, _, role = identifier.partition(".")
            # A gap in the roster must not swallow an alert: the hospital's team instead.
            return self._on_call(organization, role, at=at) or self._team(organization)
        if kind == "Group":
            hospital = self._hospital(identifier)
            if hospital.group is None:
                return []
            return [Recipient(reference, (hospital.group,), hospital.language, identifier)]
        if kind == "Organization":
            hospital = self._hospital(identifier)
            paged = hospital.on_call.get(category) or hospital.on_call.get(ANY_CATEGORY)
            on_call = self._on_call(identifier, paged, at=at) if paged else []
            return on_call or self._team(identifier)
        return []

    def _team(self, organization: str) -> list[Recipient]:
        """The hospital's own channels, else its team group; [] when it has neither."""
        hospital = self._hospital(organization)
        if hospital.channels:
            reference, channels = f"Organization/{organization}", hospital.channels
        elif hospital.group is not None:
            reference, channels = f"Group/{organization}", (hospital.group,)
        else:
            return []
        return [Recipient(reference, channels, hospital.language, organization)]

    def roster_now(self, organization: str, *, at: datetime) -> dict[str, Any]:
        """Who each of the hospital's roles pages at ``at`` (for the hospital to check)."""
        hospital = self._hospital(organization)
        local = at.astimezone(self.timezone)
        return {
            "at": local.isoformat(),
            "roles": {
                name: {
                    "on_call": [f"Practitioner/{p}" for p in role.on_call(local)],
                    "backup": f"Practitioner/{role.backup}" if role.backup else None,
                }
                for name, role in hospital.roles.items()
            },
            "paged_for": dict(hospital.on_call),
        }

    def _on_call(self, organization: str, role_name: str, *, at: datetime) -> list[Recipient]:
        role = self._hospital(organization).roles.get(role_name)
        if role is None:
            return []
        people = role.on_call(at.astimezone(self.timezone))
        if not people and role.backup:
            people = [role.backup]
        return [
            self._person(self._people[person], hospital=organization, role=role_name)
            for person in people
        ]

    def _person(self, person: Person, *, hospital: str = "", role: str = "") -> Recipient:
        return Recipient(
            f"Practitioner/{person.id}", person.channels, person.language, hospital, role
        )

    def _hospital(self, organization: str) -> HospitalContacts:
        return self._hospitals.get(organization.removeprefix("Organization/"), WEBHOOK_ONLY)

    def hospital_of(self, reference: str) -> str | None:
        """The hospital an Organization/Group/PractitionerRole reference belongs to."""
        kind, _, identifier = reference.partition("/")
        if kind in {"Organization", "Group"}:
            return identifier
        if kind == "PractitionerRole":
            return identifier.partition(".")[0]
        return None

    def takes_webhooks(self, organization: str) -> bool:
        return self._hospital(organization).webhook

    def language(self, recipient: str) -> str:
        """The language of an Organization/Group/Practitioner reference."""
        kind, _, identifier = recipient.partition("/")
        if kind == "Practitioner" and identifier in self._people:
            return self._people[identifier].language
        return self._hospital(self.hospital_of(recipient) or identifier).language

    def channels_of(self, recipient: str) -> tuple[ContactPoint, ...]:
        """A delivery recipient's channels in order (what fallback walks through)."""
        kind, _, identifier = recipient.partition("/")
        if kind == "Practitioner":
            person = self._people.get(identifier)
            return person.channels if person is not None else ()
        if kind == "Organization":
            return self._hospital(identifier).channels
        return ()

    def fallback(self, recipient: str, failed: ContactPoint) -> ContactPoint | None:
        """The next channel after ``failed`` in the recipient's order; None when none is left."""
        order = list(self.channels_of(recipient))
        if failed not in order:
            return None
        position = order.index(failed)
        return order[position + 1] if position + 1 < len(order) else None

    def escalation_target(
        self, *, step: EscalationStep, recipient: str, first: ContactPoint, hospital: str, role: str
    ) -> tuple[str, ContactPoint] | None:
        """Who and where ``step`` of the ladder pages, for an alert first sent to ``recipient``
        at ``first``; None when the hospital has no such step (no group, no backup...)."""
        if step is EscalationStep.REPEAT:
            return recipient, first
        if step is EscalationStep.NEXT_CHANNEL:
            following = self.fallback(recipient, first)
            return (recipient, following) if following is not None else None
        if not hospital:
            return None
        contacts = self._hospital(hospital)
        if step is EscalationStep.GROUP:
            return (f"Group/{hospital}", contacts.group) if contacts.group else None
        if step is EscalationStep.BACKUP:
            backup = contacts.roles[role].backup if role in contacts.roles else None
            if backup is None or backup == recipient.removeprefix("Practitioner/"):
                return None
            channels = self._people[backup].channels
            # "SMS the backup" (the ladder): a text is seen when LINE is not; else their first.
            texted = [point for point in channels if point.channel is Channel.SMS]
            preferred = texted or list(channels)
            return (f"Practitioner/{backup}", preferred[0]) if preferred else None
        if contacts.supervisor is None:
            return None
        return f"Organization/{hospital}", contacts.supervisor


def _hospital(entry: Mapping[str, Any]) -> HospitalContacts:
    return HospitalContacts(
        channels=tuple(_point(point) for point in entry.get("channels", [])),
        webhook=bool(entry.get("webhook", False)),
        group=_point(entry["group"]) if "group" in entry else None,
        supervisor=_point(entry["supervisor"]) if "supervisor" in entry else None,
        language=str(entry.get("language", "en")),
        roles={
            name: OnCallRole(
                shifts=tuple(_shift(shift) for shift in role.get("shifts", [])),
                backup=role.get("backup"),
            )
            for name, role in entry.get("roles", {}).items()
        },
        on_call={str(category): str(role) for category, role in entry.get("on_call", {}).items()},
    )


def _shift(document: Mapping[str, Any]) -> Shift:
    days = document.get("days", [])
    on_date = document.get("date")
    if bool(days) == bool(on_date):
        raise DirectoryError(f"a shift needs either 'days' or 'date': {dict(document)}")
    unknown = [day for day in days if day not in WEEKDAYS]
    if unknown:
        raise DirectoryError(f"unknown weekday(s) {unknown}; use {', '.join(WEEKDAYS)}")
    return Shift(
        person=str(document["person"]),
        start=time.fromisoformat(document["start"]),
        end=time.fromisoformat(document["end"]),
        weekdays=frozenset(WEEKDAYS.index(day) for day in days),
        on_date=date.fromisoformat(on_date) if on_date else None,
    )


def _point(document: Mapping[str, Any]) -> ContactPoint:
    return ContactPoint(Channel(document["channel"]), document.get("address", ""))
