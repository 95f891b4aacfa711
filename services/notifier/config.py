"""Notifier settings (FT_ prefix)."""

from pydantic import Field

from shared.settings import PlatformSettings

SERVICE_NAME = "notifier"


class NotifierSettings(PlatformSettings):
    notifier_port: int = 8003
    # Where webhook notifications go (a hospital system, or the demo receiver in the local stack).
    notifier_webhook_url: str = "http://127.0.0.1:8099/notify"
    # When set, every webhook call is signed (HMAC-SHA256 over "<timestamp>.<body>").
    notifier_webhook_secret: str | None = None
    notifier_http_timeout_s: float = Field(default=10.0, gt=0)
    # A claimed delivery whose sender died is taken up again after this long; > the HTTP timeout.
    notifier_delivery_lease_s: float = Field(default=30.0, gt=0)
    notifier_max_attempts: int = Field(default=10, ge=1)
    notifier_backoff_base_s: float = Field(default=1.0, gt=0)
    notifier_backoff_cap_s: float = Field(default=300.0, gt=0)
    notifier_poll_interval_s: float = Field(default=0.5, gt=0)
