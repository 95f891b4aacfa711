"""Configuration the referral use cases need, built once in the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from services.referral.domain.routing import TravelTimes


@dataclass(frozen=True)
class ReferralContext:
    """What the use cases need from configuration: where messages come from, where clinicians
    open a referral, and how long a receiving hospital has to answer."""

    source_endpoint: str
    public_url: str
    # Local SLA (a local choice: no published standard), then re-route.
    accept_within: timedelta = timedelta(minutes=10)
    # Road minutes between hospitals, for routing (a matrix, with a fallback from coordinates).
    travel: TravelTimes = field(default_factory=TravelTimes)

    def referral_url(self, referral_id: str) -> str:
        return f"{self.public_url.rstrip('/')}/referrals/{referral_id}"
