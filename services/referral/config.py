"""Referral service settings (FT_ prefix, shared with the platform; see the README)."""

from shared.settings import PlatformSettings

SERVICE_NAME = "referral"


class ReferralSettings(PlatformSettings):
    referral_port: int = 8001
    # Where clinicians open a referral; used in notification links.
    referral_public_url: str = "http://127.0.0.1:8001"
    # The development referral form has no login: off in production unless asked for.
    referral_form_enabled: bool | None = None

    @property
    def form_enabled(self) -> bool:
        if self.referral_form_enabled is None:
            return self.environment != "production"
        return self.referral_form_enabled
