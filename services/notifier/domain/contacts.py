"""Who is reached how: each hospital's channels in order of preference. Plain data and rules.

A hospital lists its channels (e.g. the stroke team's LINE group, then the on-call phone by SMS,
then e-mail) and whether its hospital system takes webhooks. A notification goes to the first
channel and to the webhook; when a channel finally fails, the next one is tried (LINE -> SMS).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from services.notifier.domain.model import Channel


@dataclass(frozen=True)
class ContactPoint:
    channel: Channel
    address: str = ""


@dataclass(frozen=True)
class HospitalContacts:
    # Tried in order: the first, then the next when one finally fails.
    channels: tuple[ContactPoint, ...] = ()
    webhook: bool = False
    # Escalation targets: the team's group (e.g. a LINE group) and the supervisor.
    group: ContactPoint | None = None
    supervisor: ContactPoint | None = None
    # The language its people read notifications in ("th" or "en").
    language: str = "en"


class EscalationStep(StrEnum):
    REPEAT = "repeat"  # page the same person again
    NEXT_CHANNEL = "next-channel"  # the hospital's next channel (e.g. SMS to the backup phone)
    GROUP = "group"  # the whole team
    SUPERVISOR = "supervisor"


@dataclass(frozen=True)
class EscalationPolicy:
    """An alert that needs acknowledgement and has none after ``ack_within`` goes one step up
    the ladder, and again after each further ``ack_within`` (DOMAIN.md: local choice)."""

    ack_within: timedelta = timedelta(minutes=5)
    ladder: tuple[EscalationStep, ...] = (
        EscalationStep.REPEAT,
        EscalationStep.GROUP,
        EscalationStep.NEXT_CHANNEL,
        EscalationStep.SUPERVISOR,
    )


# Without a contacts file every hospital is reached through the configured webhook.
WEBHOOK_ONLY = HospitalContacts(webhook=True)


class ContactBook:
    def __init__(
        self,
        hospitals: Mapping[str, HospitalContacts] | None = None,
        escalation: EscalationPolicy | None = None,
    ) -> None:
        self._hospitals = dict(hospitals or {})
        self.escalation = escalation or EscalationPolicy()

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> ContactBook:
        escalation = document.get("escalation", {})
        return cls(
            {
                organization: HospitalContacts(
                    channels=tuple(_point(point) for point in entry.get("channels", [])),
                    webhook=bool(entry.get("webhook", False)),
                    group=_point(entry["group"]) if "group" in entry else None,
                    supervisor=_point(entry["supervisor"]) if "supervisor" in entry else None,
                    language=str(entry.get("language", "en")),
                )
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
        )

    def escalation_target(
        self, recipient: str, *, step: EscalationStep, first: ContactPoint
    ) -> ContactPoint | None:
        """Where ``step`` of the ladder goes for an alert first sent to ``first``."""
        contacts = self._hospitals.get(recipient.removeprefix("Organization/"), WEBHOOK_ONLY)
        if step is EscalationStep.REPEAT:
            return first
        if step is EscalationStep.NEXT_CHANNEL:
            return self.fallback(recipient, first)
        if step is EscalationStep.GROUP:
            return contacts.group
        return contacts.supervisor

    def language(self, recipient: str) -> str:
        contacts = self._hospitals.get(recipient.removeprefix("Organization/"), WEBHOOK_ONLY)
        return contacts.language

    def first_contacts(self, recipient: str) -> list[ContactPoint]:
        """Where a new notification for ``recipient`` (Organization/<id>) goes first."""
        contacts = self._hospitals.get(recipient.removeprefix("Organization/"), WEBHOOK_ONLY)
        first = [contacts.channels[0]] if contacts.channels else []
        return [*first, *([ContactPoint(Channel.WEBHOOK)] if contacts.webhook else [])]

    def fallback(self, recipient: str, failed: ContactPoint) -> ContactPoint | None:
        """The next channel after ``failed`` in the hospital's order; None when none is left."""
        contacts = self._hospitals.get(recipient.removeprefix("Organization/"), WEBHOOK_ONLY)
        order = list(contacts.channels)
        if failed not in order:
            return None
        position = order.index(failed)
        return order[position + 1] if position + 1 < len(order) else None


def _point(document: Mapping[str, Any]) -> ContactPoint:
    return ContactPoint(Channel(document["channel"]), document.get("address", ""))
