"""Who is reached how: the notifier's directory of hospitals, people, roles and on-call rosters.
Plain data and rules, no I/O.

A notification names its recipients as FHIR references, resolved here:

- ``Practitioner/<person>``: that person, on their channels in order of preference;
- ``PractitionerRole/<hospital>.<role>``: whoever is on call for that role at that hospital now
  (the roster's shifts, in the directory's time zone), or the role's backup when nobody is;
- ``PractitionerRole/<hospital>.<role>.backup``: that role's backup person (a teleconsult nobody
  acknowledged pages the backup next);
- ``Group/<hospital>``: the hospital's team group (e.g. the stroke team's LINE group);
- ``Organization/<hospital>``: the person on call for the role the hospital pages for that kind
  of notification (``on_call``), else the hospital's own channels (a ward phone, a team group).

A hospital whose system takes webhooks also gets a signed copy of everything addressed to it,
and its web pages get every notification as a live event. When a channel finally fails, the
recipient's next channel is tried (LINE -> SMS).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.notifier.domain.directory import (
    ANY_CATEGORY,
    WEBHOOK_ONLY,
    ContactPoint,
    DirectoryError,
    EscalationPolicy,
    EscalationStep,
    HospitalContacts,
    Person,
    Recipient,
)
from services.notifier.domain.model import Channel
from shared.province_time import PROVINCE_ZONE_NAME

# ``PractitionerRole/<hospital>.<role><BACKUP_SUFFIX>`` names the role's backup person.
BACKUP_SUFFIX = ".backup"


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

    def _check(self) -> None:
        """Every person a roster names is in the directory, and every role a hospital pages is
        defined; a refusal names the entry as its path in the directory document."""
        for organization, hospital in self._hospitals.items():
            entry = f"hospitals.{organization}"
            for role_name, role in hospital.roles.items():
                named = [
                    (shift.person, f"shifts.{number}.person")
                    for number, shift in enumerate(role.shifts)
                ] + ([(role.backup, "backup")] if role.backup else [])
                for person, field in named:
                    if person not in self._people:
                        raise DirectoryError(
                            f"{entry}.roles.{role_name}.{field}: unknown person {person!r}"
                        )
            for category, role_name in hospital.on_call.items():
                if role_name not in hospital.roles:
                    raise DirectoryError(
                        f"{entry}.on_call.{category}: pages unknown role {role_name!r}"
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
            if role.endswith(BACKUP_SUFFIX) and role not in self._hospital(organization).roles:
                backup = self._backup(organization, role.removesuffix(BACKUP_SUFFIX))
                return backup or self._team(organization)
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

    def _backup(self, organization: str, role_name: str) -> list[Recipient]:
        role = self._hospital(organization).roles.get(role_name)
        if role is None or role.backup is None:
            return []
        return [self._person(self._people[role.backup], hospital=organization, role=role_name)]

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
