"""Telemedicine service settings (FT_ prefix)."""

from shared.settings import PlatformSettings

SERVICE_NAME = "telemedicine"


class TelemedicineSettings(PlatformSettings):
    telemedicine_port: int = 8002
    telemedicine_public_url: str = "http://127.0.0.1:8002"
