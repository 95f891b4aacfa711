"""Configuration the telemedicine use cases need, built once in the composition root."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TelemedicineContext:
    """Where the service's messages come from and where clinicians open a consult."""

    source_endpoint: str
    public_url: str

    def consult_url(self, consult_id: str) -> str:
        return f"{self.public_url.rstrip('/')}/consults/{consult_id}"
