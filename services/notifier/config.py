"""Notifier settings (FT_ prefix)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from shared.settings import PlatformSettings

SERVICE_NAME = "notifier"
DEVELOPMENT_LINK_SECRET = "development-only-link-secret"


class NotifierSettings(PlatformSettings):
    """Secrets are ``SecretStr``: shown as ``**********`` wherever the settings are printed or
    logged; only the adapter that uses one reads its value (``channels.py``)."""

    notifier_port: int = 8003
    # Where people's browsers reach the notifier (acknowledgement links, live feed pages).
    notifier_public_url: str = "http://127.0.0.1:8003"
    # Signs acknowledgement links and live-feed tickets; must be set (and kept) in production.
    notifier_link_secret: SecretStr = SecretStr(DEVELOPMENT_LINK_SECRET)
    # An acknowledgement link works this long after the alert was sent.
    notifier_ack_link_ttl_s: float = Field(default=24 * 3600, gt=0)
    # A live-feed ticket (e.g. a ward screen's URL) works this long: about a shift.
    notifier_live_ticket_ttl_s: float = Field(default=12 * 3600, gt=0)
    # A web page connecting without Last-Event-ID is first sent the events of this past window.
    notifier_live_backlog_s: float = Field(default=3600, ge=0)
    # Live events older than this are dropped (the delivery log keeps the record).
    notifier_live_retention_s: float = Field(default=7 * 24 * 3600, gt=0)
    # Where webhook notifications go (a hospital system, or the demo receiver in the local stack).
    notifier_webhook_url: str = "http://127.0.0.1:8099/notify"
    # When set, every webhook call is signed (HMAC-SHA256 over "<timestamp>.<body>").
    notifier_webhook_secret: SecretStr | None = None
    notifier_http_timeout_s: float = Field(default=10.0, gt=0)
    # A claimed delivery whose sender died is taken up again after this long; > the HTTP timeout.
    notifier_delivery_lease_s: float = Field(default=30.0, gt=0)
    notifier_max_attempts: int = Field(default=10, ge=1)
    notifier_backoff_base_s: float = Field(default=1.0, gt=0)
    notifier_backoff_cap_s: float = Field(default=300.0, gt=0)
    notifier_poll_interval_s: float = Field(default=0.5, gt=0)
    # With nothing to send, the dispatcher sleeps until the earliest pending delivery falls due
    # (a retry's time, a dead sender's lease), at most a minute: new deliveries, escalations
    # and fallbacks of this process wake it at once; another instance's (a NOTIFY) are looked
    # for this long after they fall due, in case that instance died before sending them.
    notifier_idle_poll_s: float = Field(default=5.0, gt=0)
    # Sends at once (and deliveries leased at most). A send holds one of the pool's 10
    # connections only to record its outcome, for milliseconds: 32 sends finishing together
    # wait well under a second for a connection, far from the 30 s lease.
    notifier_max_in_flight: int = Field(default=32, ge=1)
    # Unacknowledged alerts are looked for when the earliest falls due (an alert sent wakes the
    # watcher; the ladder is in the contacts file); a round that failed is tried again this
    # much later.
    notifier_escalation_poll_s: float = Field(default=5.0, gt=0)
    # The directory: people, hospitals, on-call rosters, escalation (JSON, see
    # deploy/demo/contacts.example.json); without it, hospitals get webhooks and live events.
    notifier_contacts_file: str | None = None
    # How often the contacts file is checked for edits (rosters change every shift).
    notifier_contacts_reload_s: float = Field(default=10.0, gt=0)
    # LINE Messaging API (push); the base URL is configurable so tests use a local server.
    notifier_line_base_url: str = "https://api.line.me"
    notifier_line_channel_token: SecretStr | None = None
    notifier_line_channel_secret: SecretStr | None = None
    # SMS gateway: "generic" (JSON over HTTP) or "thaibulksms".
    notifier_sms_vendor: Literal["generic", "thaibulksms"] | None = None
    notifier_sms_url: str | None = None
    notifier_sms_api_key: SecretStr | None = None
    notifier_sms_api_secret: SecretStr | None = None
    notifier_sms_sender: str = "FastTrack"
    # The generic gateway reports delivery to {public URL}/sms/delivery-reports with this token.
    notifier_sms_callback_token: SecretStr | None = None
    # E-mail over SMTP.
    notifier_smtp_host: str | None = None
    notifier_smtp_port: int = 25
    notifier_smtp_sender: str = "fasttrack@localhost"
    notifier_smtp_username: str | None = None
    notifier_smtp_password: SecretStr | None = None
    notifier_smtp_starttls: bool = False

    @model_validator(mode="after")
    def _refuse_development_secret_in_production(self) -> NotifierSettings:
        if (
            self.environment == "production"
            and self.notifier_link_secret.get_secret_value() == DEVELOPMENT_LINK_SECRET
        ):
            raise ValueError("FT_NOTIFIER_LINK_SECRET must be set in production")
        return self


def revealed(secret: SecretStr | None) -> str | None:
    """A secret's value, for the one adapter or check that uses it; None when unset or empty."""
    value = secret.get_secret_value() if secret is not None else ""
    return value or None
