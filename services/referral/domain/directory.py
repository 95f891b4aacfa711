"""The hospital directory as the referral service reads it: what each hospital can do, what is
out of service right now, and where it is."""

from __future__ import annotations

from dataclasses import dataclass

from services.referral.domain.routing import Hospital
from shared.vocabulary.capabilities import StrokeCapability

_KNOWN = frozenset(c.value for c in StrokeCapability)


@dataclass(frozen=True, kw_only=True)
class DirectoryEntry:
    id: str
    name: str
    name_th: str | None
    # As the directory lists them: codes routing does not know are kept, for showing.
    capabilities: tuple[str, ...]
    unavailable: tuple[str, ...]
    latitude: float | None
    longitude: float | None
    # The hospital's own patient identifier system (its hospital numbers), if it declares one.
    patient_identifier_system: str | None = None

    def for_routing(self) -> Hospital:
        """The hospital as routing sees it (only the capabilities it knows)."""
        return Hospital(
            id=self.id,
            name=self.name,
            latitude=self.latitude,
            longitude=self.longitude,
            capabilities=frozenset(StrokeCapability(c) for c in self.capabilities if c in _KNOWN),
            unavailable=frozenset(StrokeCapability(c) for c in self.unavailable if c in _KNOWN),
        )
