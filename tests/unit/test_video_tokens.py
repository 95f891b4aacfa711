"""Join tokens for the consult's video room (Jitsi Meet JWT, HS256): every claim, one room per
token, time-limited, and no development secret in production."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from pydantic import SecretStr, ValidationError

from services.telemedicine.adapters.video_tokens import AUDIENCE, CLOCK_SKEW, VideoTokens
from services.telemedicine.config import DEVELOPMENT_VIDEO_SECRET, TelemedicineSettings
from services.telemedicine.domain.video import Participant, new_room_name

SECRET = "test-jitsi-secret-of-enough-length-0123456789"
NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
TOKENS = VideoTokens(
    base_url="https://meet.trang-hospital.example/",
    app_id="fasttrack",
    secret=SecretStr(SECRET),
    lifetime=timedelta(hours=1),
)
CONSULTANT = Participant(
    id="Practitioner/dr-anan", name="Dr Anan", hospital="trang-hospital", moderator=True
)
SPOKE = Participant(
    id="Organization/sikao-hospital",
    name="sikao-hospital",
    hospital="sikao-hospital",
    moderator=False,
)


def _decode(token: str, **options: object) -> dict[str, object]:
    claims: dict[str, object] = jwt.decode(
        token,
        SECRET,
        algorithms=["HS256"],
        audience=AUDIENCE,
        issuer="fasttrack",
        options={"require": ["iss", "aud", "sub", "exp", "nbf"], "verify_exp": False},
        **options,  # type: ignore[arg-type]
    )
    return claims


def test_a_token_carries_every_claim_jitsi_checks_and_the_user_context() -> None:
    room = new_room_name()
    link = TOKENS.join(room=room, participant=CONSULTANT, now=NOW)
    assert jwt.get_unverified_header(link.token) == {"alg": "HS256", "typ": "JWT"}
    assert _decode(link.token) == {
        "iss": "fasttrack",
        "aud": "jitsi",
        "sub": "meet.trang-hospital.example",
        "room": room,
        "nbf": int((NOW - CLOCK_SKEW).timestamp()),
        "exp": int((NOW + timedelta(hours=1)).timestamp()),
        "context": {
            "user": {"id": "Practitioner/dr-anan", "name": "Dr Anan", "moderator": True},
            "group": "trang-hospital",
        },
    }
    assert link.url == f"https://meet.trang-hospital.example/{room}?jwt={link.token}"
    assert link.expires_at == NOW + timedelta(hours=1)


def test_a_token_for_one_room_does_not_name_another() -> None:
    first, second = new_room_name(), new_room_name()
    assert first != second
    assert len(first) == len("ft-") + 32
    token = TOKENS.join(room=first, participant=SPOKE, now=NOW).token
    claims = _decode(token)
    assert claims["room"] == first
    assert second not in token
    assert second not in str(claims)
    assert claims["context"] == {
        "user": {"id": "Organization/sikao-hospital", "name": "sikao-hospital", "moderator": False},
        "group": "sikao-hospital",
    }


def test_a_token_expires_and_another_secret_does_not_verify_it() -> None:
    token = TOKENS.join(room=new_room_name(), participant=SPOKE, now=NOW).token
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(token, SECRET, algorithms=["HS256"], audience=AUDIENCE)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            token,
            "another-secret-of-enough-length-0123456789",
            algorithms=["HS256"],
            audience=AUDIENCE,
            options={"verify_exp": False},
        )


def test_production_refuses_the_development_video_secret() -> None:
    production: dict[str, object] = {
        "environment": "production",
        "database_url": "postgresql://fasttrack@db.example/fasttrack",
        "web_identity_secret": "a-real-identity-secret",
        "telemedicine_check_in_link_secret": "a-real-check-in-secret",
    }
    with pytest.raises(ValidationError, match="FT_TELEMEDICINE_VIDEO_SECRET"):
        TelemedicineSettings.model_validate(production)
    settings = TelemedicineSettings.model_validate(
        {**production, "telemedicine_video_secret": "a-real-secret"}
    )
    assert settings.telemedicine_video_secret.get_secret_value() != DEVELOPMENT_VIDEO_SECRET
    assert "a-real-secret" not in repr(settings)


def test_an_escalation_ladder_out_of_order_is_refused() -> None:
    with pytest.raises(ValidationError, match="0 < backup < stroke lead < fail"):
        TelemedicineSettings(telemedicine_ladder_by_hub={"trang-hospital": (10.0, 5.0, 15.0)})
