"""Referral service settings (FT_ prefix, shared with the platform; see the README)."""

from pydantic import Field

from services.referral.domain.accounts import SignInRules
from shared.settings import PlatformSettings

SERVICE_NAME = "referral"


class ReferralSettings(PlatformSettings):
    referral_port: int = 8001
    # The referral service's own public URL (its FHIR base, the AsyncAPI document).
    referral_public_url: str = "http://127.0.0.1:8001"
    # Where people open the web app (the one origin of its pages): notification links open
    # {web_public_url}/app/referrals/{id}. Unset: the referral service itself, which serves /app.
    web_public_url: str | None = None
    # Minutes a receiving hospital has to accept before the referral is re-routed.
    referral_accept_within_min: float = Field(default=10.0, gt=0)
    # Road travel minutes between hospitals (JSON, see deploy/demo/travel-times.json).
    referral_travel_times_file: str | None = "deploy/demo/travel-times.json"
    # The deadline watcher sleeps until the earliest accept-by deadline (woken by a referral
    # written with an earlier one); a re-routing that failed is tried again this much later.
    referral_deadline_poll_s: float = Field(default=5.0, gt=0)
    # The KPI gauges of GET /metrics (every patient of the month read again) at most this often.
    referral_kpi_metrics_interval_s: float = Field(default=60.0, gt=0)
    # Time-critical alerts (LKW + 3.5 h without needle, DIDO, ...) are looked for when one
    # falls due, and after a change to a referral at most this often (and a failure retried).
    referral_alert_poll_s: float = Field(default=5.0, gt=0)

    # The operators' console: a referral still open whose next hop has not come for this long
    # is stuck; each referral links to its trace in this trace UI (Zipkin's, in development).
    referral_console_stuck_after_min: float = Field(default=10.0, gt=0)
    trace_ui_url: str = "http://127.0.0.1:19411/zipkin"

    # How often an idle page's live stream (/app/events) says it is alive and checks that the
    # person's session is still valid: a signed-out or disabled person's open page ends then.
    referral_page_heartbeat_s: float = Field(default=15.0, gt=0)

    # The web app's sessions and sign-in limits (services/referral/domain/accounts.py).
    referral_session_hours: float = Field(default=12.0, gt=0)
    referral_sign_in_window_min: float = Field(default=15.0, gt=0)
    referral_sign_in_max_failures_per_username: int = Field(default=5, ge=1)
    referral_sign_in_max_failures_per_address: int = Field(default=30, ge=1)

    @property
    def sign_in_rules(self) -> SignInRules:
        return SignInRules(
            session_lifetime_s=self.referral_session_hours * 3600,
            window_s=self.referral_sign_in_window_min * 60,
            max_failures_per_username=self.referral_sign_in_max_failures_per_username,
            max_failures_per_address=self.referral_sign_in_max_failures_per_address,
        )
