"""Secrets in the settings are ``SecretStr``: printed or logged settings show stars, never the
webhook, LINE, SMS or SMTP secrets, the link secret or a hospital's API key."""

from __future__ import annotations

import logging
import typing

import pytest
from pydantic import SecretStr

from services.notifier.config import NotifierSettings, revealed
from shared.web_identity import DEVELOPMENT_IDENTITY_SECRET

SECRET_LIKE = ("secret", "token", "password", "api_key")
SECRETS = {
    "notifier_link_secret": "link-secret-4f1c",
    "notifier_webhook_secret": "webhook-secret-9a2e",
    "notifier_line_channel_token": "line-token-77b0",
    "notifier_line_channel_secret": "line-secret-c3d1",
    "notifier_sms_api_key": "sms-key-0e5f",
    "notifier_sms_api_secret": "sms-secret-61aa",
    "notifier_sms_callback_token": "sms-callback-2b8c",
    "notifier_smtp_password": "smtp-password-d409",
    "web_identity_secret": "identity-secret-8d3a",
}
API_KEY = "hospital-api-key-5e6f"
OPERATOR_KEY = "operator-api-key-71c2"
KEYS = [API_KEY, OPERATOR_KEY]


def _settings() -> NotifierSettings:
    return NotifierSettings(
        **SECRETS,  # type: ignore[arg-type]
        api_keys={API_KEY: "trang-hospital"},
        operator_api_keys={OPERATOR_KEY: "night-shift"},
    )


def test_every_secret_like_setting_is_a_secret_str() -> None:
    hints = typing.get_type_hints(NotifierSettings)
    secret_like = [name for name in hints if any(word in name for word in SECRET_LIKE)]
    assert sorted(secret_like) == sorted([*SECRETS, "api_keys", "operator_api_keys"])
    for name in SECRETS:
        assert SecretStr in (hints[name], *typing.get_args(hints[name])), name
    for name in ("api_keys", "operator_api_keys"):
        assert typing.get_args(hints[name])[0] is SecretStr  # the keys, not their holders


@pytest.mark.parametrize(
    "shown",
    [repr, str, lambda s: s.model_dump_json(), lambda s: str(s.model_dump())],
    ids=["repr", "str", "json", "dump"],
)
def test_printed_settings_show_no_secret(shown: typing.Callable[[NotifierSettings], str]) -> None:
    text = shown(_settings())
    for value in [*SECRETS.values(), *KEYS]:
        assert value not in text
    assert "trang-hospital" in text  # the rest is still readable
    assert "night-shift" in text


def test_logged_settings_show_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("settings: %s", _settings())
    for value in [*SECRETS.values(), *KEYS]:
        assert value not in caplog.text


def test_a_secret_set_empty_counts_as_not_configured() -> None:
    assert revealed(None) is None
    assert revealed(SecretStr("")) is None
    assert revealed(SecretStr("x")) == "x"


def test_production_still_refuses_the_demo_api_keys() -> None:
    with pytest.raises(ValueError, match="demo keys"):
        NotifierSettings(
            environment="production",
            database_url="postgresql://fasttrack@db.internal/fasttrack",
            notifier_link_secret=SecretStr("a-real-link-secret"),
            api_keys={SecretStr("demo-trang-hospital"): "trang-hospital"},
        )


@pytest.mark.parametrize(
    ("setting", "refusal"),
    [
        ({"operator_api_keys": {SecretStr("demo-operator-console"): "x"}}, "demo keys"),
        ({"web_identity_secret": SecretStr(DEVELOPMENT_IDENTITY_SECRET)}, "WEB_IDENTITY"),
    ],
    ids=["demo operator keys", "development identity secret"],
)
def test_production_refuses_demo_operator_keys_and_the_development_identity_secret(
    setting: dict[str, typing.Any], refusal: str
) -> None:
    production: dict[str, typing.Any] = {
        "environment": "production",
        "database_url": "postgresql://fasttrack@db.internal/fasttrack",
        "notifier_link_secret": SecretStr("a-real-link-secret"),
        "web_identity_secret": SecretStr("a-real-identity-secret"),
    }
    NotifierSettings(**production)  # the rest is acceptable
    with pytest.raises(ValueError, match=refusal):
        NotifierSettings(**{**production, **setting})
