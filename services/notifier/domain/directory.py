"""The entries of the notifier's directory: people and their channels, hospitals with their
on-call roles and rosters, and the escalation ladder. Plain data, no I/O; who a notification
reaches is decided by ``contacts.ContactBook`` from these."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from services.notifier.domain.model import Channel

# Notifications whose category has no role of its own go to the role listed under this key.
ANY_CATEGORY = "*"


class DirectoryError(ValueError):
    """The directory is refused: unreadable, malformed, or inconsistent (an unknown person, a
    bad shift). The message names the entry as its path in the document."""


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
