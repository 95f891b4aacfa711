"""Configuration the referral use cases need, built once in the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import quote

from services.referral.domain.routing import TravelTimes
from services.referral.service.directory_cache import DirectoryCache
from shared.consult_paging import OnCallPaging


@dataclass(frozen=True)
class ReferralContext:
    """What the use cases need from configuration: where messages come from, where clinicians
    open a referral, and how long a receiving hospital has to answer."""

    source_endpoint: str
    public_url: str
    # Where people open the web app (None: the referral service's own public URL).
    web_url: str | None = None
    # Local SLA (a local choice: no published standard), then re-route.
    accept_within: timedelta = timedelta(minutes=10)
    # Road minutes between hospitals, for routing (a matrix, with a fallback from coordinates).
    travel: TravelTimes = field(default_factory=TravelTimes)
    # Whom a referral that asks for a teleconsult pages first, and where the consult opens.
    on_call: OnCallPaging = field(default_factory=OnCallPaging)
    # The hospital directory kept between referrals (dropped when it changes).
    directory: DirectoryCache = field(default_factory=DirectoryCache, compare=False)

    def referral_url(self, referral_id: str) -> str:
        """The referral page people open from a notification (sign-in first when needed)."""
        base = (self.web_url or self.public_url).rstrip("/")
        return f"{base}/app/referrals/{quote(referral_id, safe='')}"
