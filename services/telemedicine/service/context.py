"""Configuration the telemedicine use cases need, built once in the composition root."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from services.telemedicine.domain.dose import Thrombolytic
from services.telemedicine.domain.escalation import EscalationLadder


@dataclass(frozen=True)
class TelemedicineContext:
    """Where the service's messages come from, where clinicians open a consult, whom the
    escalation ladder pages and which number the spoke is told to call when a consult fails to
    connect."""

    source_endpoint: str
    public_url: str
    ladder: EscalationLadder
    hub_phones: Mapping[str, str] = field(default_factory=dict)
    # The network's coordination line, told when the hub has no number configured ("": none).
    coordination_phone: str = ""
    # Hospitals whose formulary has tenecteplase (every hospital that lyses has alteplase).
    tenecteplase_hospitals: frozenset[str] = frozenset()

    def formulary(self, hospital: str) -> frozenset[Thrombolytic]:
        """The thrombolytics a hospital can give."""
        if hospital in self.tenecteplase_hospitals:
            return frozenset(Thrombolytic)
        return frozenset({Thrombolytic.ALTEPLASE})

    def consult_url(self, consult_id: str) -> str:
        return f"{self.public_url.rstrip('/')}/consults/{consult_id}"
