"""How a hospital system logs in to Kafka: SASL_SSL with SCRAM-SHA-512 on the hospital listener
(README, "Connecting to Kafka as a hospital"). ``python -m shared.admin send`` uses it when
``FT_KAFKA_SASL_USERNAME`` is set; without it, it connects like the network's own services."""

from __future__ import annotations

from typing import Any

from aiokafka.helpers import create_ssl_context
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class HospitalLogin(BaseSettings):
    """``FT_KAFKA_SASL_USERNAME`` (the hospital's directory id), ``FT_KAFKA_SASL_PASSWORD`` and
    ``FT_KAFKA_SSL_CAFILE`` (the CA certificate the operator gave; the system's CAs if unset)."""

    model_config = SettingsConfigDict(env_prefix="FT_KAFKA_", extra="ignore")

    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = None

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's producer, consumer and admin client."""
        if self.sasl_username is None:
            return {}
        return {
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_plain_username": self.sasl_username,
            "sasl_plain_password": (
                self.sasl_password.get_secret_value() if self.sasl_password else ""
            ),
            "ssl_context": create_ssl_context(cafile=self.ssl_cafile),
        }
