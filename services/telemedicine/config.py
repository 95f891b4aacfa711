"""Telemedicine service settings (FT_ prefix)."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator

from services.telemedicine.domain.monitoring import (
    HOME_ISOLATION,
    PLAUSIBLE,
    Level,
    Programme,
    Symptom,
    Threshold,
    Vital,
)
from shared.settings import PlatformSettings

SERVICE_NAME = "telemedicine"
# Signs the video rooms' join tokens in development and tests only; refused in production.
DEVELOPMENT_VIDEO_SECRET = "development-only-jitsi-secret-change-me"  # noqa: S105
# Signs the patients' check-in links in development and tests only; refused in production.
DEVELOPMENT_CHECK_IN_SECRET = "development-only-check-in-secret-change-me"  # noqa: S105
LevelName = Literal["green", "yellow", "red"]


class ThresholdRule(BaseModel):
    """One row of a programme's table: a reading strictly below/above the bound is at level."""

    vital: Vital
    level: LevelName
    below: float | None = None
    above: float | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> ThresholdRule:
        if (self.below is None) == (self.above is None):
            raise ValueError("a threshold has exactly one of 'below' and 'above'")
        return self


class ProgrammeRules(BaseModel):
    """A monitoring programme's rules (FT_TELEMEDICINE_MONITORING_PROGRAMMES, JSON by name)."""

    # None: the built-in home-isolation table (domain/monitoring.py).
    thresholds: list[ThresholdRule] | None = None
    symptoms: dict[Symptom, LevelName] | None = None
    check_in_times: list[time] = Field(default_factory=lambda: [time(8, 0), time(18, 0)])
    remind_after_s: float = Field(default=1800, gt=0)
    alert_after_s: float = Field(default=7200, gt=0)

    def programme(self, name: str) -> Programme:
        return Programme(
            name=name,
            thresholds=HOME_ISOLATION.thresholds
            if self.thresholds is None
            else tuple(
                Threshold(t.vital, Level.of(t.level), below=t.below, above=t.above)
                for t in self.thresholds
            ),
            symptoms=HOME_ISOLATION.symptoms
            if self.symptoms is None
            else {symptom: Level.of(level) for symptom, level in self.symptoms.items()},
            plausible=PLAUSIBLE,
            check_in_times=tuple(self.check_in_times),
            remind_after=timedelta(seconds=self.remind_after_s),
            alert_after=timedelta(seconds=self.alert_after_s),
        )


class TelemedicineSettings(PlatformSettings):
    telemedicine_port: int = 8002
    # The consultant hospital's roles in the notifier's directory: the on-call consultant
    # (neurologist or internist; telemedicine_consultant_role, a platform setting, since the
    # referral service pages it first) and the hub's stroke lead (the last rung before failing).
    telemedicine_stroke_lead_role: str = "stroke-lead"
    # The escalation ladder, counted from the first page: no acknowledgement after the first ->
    # the backup; after the second -> the stroke lead and an alert to the spoke; after the
    # third -> failed to connect (the spoke is told the hub's phone number).
    telemedicine_backup_after_s: float = Field(default=300, gt=0)
    telemedicine_stroke_lead_after_s: float = Field(default=600, gt=0)
    telemedicine_fail_after_s: float = Field(default=900, gt=0)
    # A hub that runs its own ladder: {"<organization id>": [backup, stroke lead, fail] in
    # seconds} (JSON in FT_TELEMEDICINE_LADDER_BY_HUB).
    telemedicine_ladder_by_hub: dict[str, tuple[float, float, float]] = Field(default_factory=dict)
    # The ladder's watcher sleeps until the next rung's deadline (a consult written with an
    # earlier one wakes it); a round that failed is tried again this much later.
    telemedicine_escalation_poll_s: float = Field(default=5.0, gt=0)
    # The phone number the spoke is advised to call when a consult fails to connect, by hub
    # (JSON in FT_TELEMEDICINE_HUB_PHONES: {"<organization id>": "<phone>"}).
    telemedicine_hub_phones: dict[str, str] = Field(default_factory=dict)
    # The network's coordination line (FT_TELEMEDICINE_COORDINATION_PHONE), told to a spoke
    # whose hub has no number above; without either, the spoke is told to call the hub by name.
    telemedicine_coordination_phone: str = ""
    # Hospitals whose formulary has tenecteplase (JSON list in FT_TELEMEDICINE_TENECTEPLASE_
    # HOSPITALS); every hospital that gives thrombolysis has alteplase.
    telemedicine_tenecteplase_hospitals: list[str] = Field(default_factory=list)
    # The self-hosted Jitsi Meet: its base URL, and the JWT app id and secret it shares with us.
    telemedicine_video_base_url: str = "https://meet.fasttrack.example"
    telemedicine_video_app_id: str = "fasttrack"
    telemedicine_video_secret: SecretStr = SecretStr(DEVELOPMENT_VIDEO_SECRET)
    telemedicine_video_token_ttl_s: float = Field(default=3600, gt=0, le=86400)
    # Home-isolation monitoring (docs/home-monitoring.md): the programmes' rules by name (the
    # built-in "home-isolation" table unless replaced here), the hub a red flag pages when the
    # enrolment names none, how soon a chase of a missed check-in that failed is tried again
    # (the watcher sleeps until the next reminder or alert is due), and the secret that signs
    # the patients' check-in links.
    telemedicine_monitoring_programmes: dict[str, ProgrammeRules] = Field(default_factory=dict)
    telemedicine_monitoring_consultant_hospital: str | None = None
    telemedicine_monitoring_poll_s: float = Field(default=30, gt=0)
    telemedicine_check_in_link_secret: SecretStr = SecretStr(DEVELOPMENT_CHECK_IN_SECRET)
    # A check-in link works this long (a home-isolation stay is 10-14 days; with a margin).
    telemedicine_check_in_link_ttl_s: float = Field(default=21 * 86400, gt=0)

    @model_validator(mode="after")
    def _ladder_in_order_and_no_development_secret_in_production(self) -> TelemedicineSettings:
        ladders = [
            (
                self.telemedicine_backup_after_s,
                self.telemedicine_stroke_lead_after_s,
                self.telemedicine_fail_after_s,
            ),
            *self.telemedicine_ladder_by_hub.values(),
        ]
        if not all(0 < backup < lead < fail for backup, lead, fail in ladders):
            raise ValueError(
                "An escalation ladder needs 0 < backup < stroke lead < fail (seconds): "
                "FT_TELEMEDICINE_BACKUP_AFTER_S, _STROKE_LEAD_AFTER_S, _FAIL_AFTER_S and each "
                "hub's in FT_TELEMEDICINE_LADDER_BY_HUB"
            )
        if (
            self.environment == "production"
            and self.telemedicine_video_secret.get_secret_value() == DEVELOPMENT_VIDEO_SECRET
        ):
            raise ValueError(
                "FT_TELEMEDICINE_VIDEO_SECRET must be set to a real secret in production"
            )
        if (
            self.environment == "production"
            and self.telemedicine_check_in_link_secret.get_secret_value()
            == DEVELOPMENT_CHECK_IN_SECRET
        ):
            raise ValueError(
                "FT_TELEMEDICINE_CHECK_IN_LINK_SECRET must be set to a real secret in production"
            )
        return self

    def monitoring_programmes(self) -> dict[str, Programme]:
        """The built-in programme, and each configured one (replacing it when it is named)."""
        configured = {
            name: rules.programme(name)
            for name, rules in self.telemedicine_monitoring_programmes.items()
        }
        return {HOME_ISOLATION.name: HOME_ISOLATION, **configured}
