"""Who is reached how: each hospital's channels in order of preference. Plain data and rules.

A hospital lists its channels (e.g. the stroke team's LINE group, then the on-call phone by SMS,
then e-mail) and whether its hospital system takes webhooks. A notification goes to the first
channel and to the webhook; when a channel finally fails, the next one is tried (LINE -> SMS).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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


# Without a contacts file every hospital is reached through the configured webhook.
WEBHOOK_ONLY = HospitalContacts(webhook=True)


class ContactBook:
    def __init__(self, hospitals: Mapping[str, HospitalContacts] | None = None) -> None:
        self._hospitals = dict(hospitals or {})

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> ContactBook:
        return cls(
            {
                organization: HospitalContacts(
                    channels=tuple(
                        ContactPoint(Channel(point["channel"]), point.get("address", ""))
                        for point in entry.get("channels", [])
                    ),
                    webhook=bool(entry.get("webhook", False)),
                )
                for organization, entry in document.get("hospitals", {}).items()
            }
        )

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
