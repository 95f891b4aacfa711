"""Referral service settings (FT_ prefix, shared with the platform; see the README)."""

from shared.settings import PlatformSettings

SERVICE_NAME = "referral"


class ReferralSettings(PlatformSettings):
    referral_port: int = 8001
    # Where clinicians open a referral; used in notification links.
    referral_public_url: str = "http://127.0.0.1:8001"
