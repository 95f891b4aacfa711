"""Configuration the monitoring use cases need, built once in the composition root."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.telemedicine.domain.monitoring import Programme
from services.telemedicine.service.context import TelemedicineContext
from shared.errors import InvalidInput
from shared.signed_links import LinkSigner


@dataclass(frozen=True)
class MonitoringContext:
    """The programmes and their rules, the signer of the patients' check-in links, the hub a
    red flag pages when the enrolment names none, and the consult workflow's own context."""

    consults: TelemedicineContext
    programmes: Mapping[str, Programme]
    check_in_links: LinkSigner
    default_consultant_hospital: str | None = None

    def programme(self, name: str) -> Programme:
        programme = self.programmes.get(name)
        if programme is None:
            raise InvalidInput(
                f"No monitoring programme {name[:60]!r} (configured: {', '.join(self.programmes)})",
                expression="programme",
            )
        return programme

    def check_in_url(self, episode_id: str) -> str:
        """The patient's own check-in form: the signed link is the only key it needs."""
        token = self.check_in_links.sign(episode_id)
        return f"{self.consults.public_url.rstrip('/')}/check-in/{token}"

    @property
    def board_url(self) -> str:
        return f"{self.consults.public_url.rstrip('/')}/app/monitoring/"
