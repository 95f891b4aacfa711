"""Join tokens for the self-hosted Jitsi Meet (its JWT authentication, "token" mode with a
shared secret): HS256 with ``iss`` (our app id), ``aud``, ``sub`` (the Jitsi domain), ``room``,
``nbf``, ``exp`` and the user context. Signed with PyJWT; a token names one room only. Tokens
are secrets: they are returned to the participant and never logged or put in spans."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import jwt
from pydantic import SecretStr

from services.telemedicine.domain.video import Participant

ALGORITHM = "HS256"
# Jitsi's prosody token plugin checks ``aud`` against the accepted audiences; "jitsi" is the
# value its documentation uses.
AUDIENCE = "jitsi"
# A token is valid from a little before it is issued: clocks of two servers differ.
CLOCK_SKEW = timedelta(seconds=30)


@dataclass(frozen=True)
class JoinLink:
    url: str
    room: str
    token: str
    expires_at: datetime


class VideoTokens:
    def __init__(
        self, *, base_url: str, app_id: str, secret: SecretStr, lifetime: timedelta
    ) -> None:
        self._base = base_url.rstrip("/")
        self._domain = urlsplit(base_url).hostname or base_url
        self._app_id = app_id
        self._secret = secret
        self._lifetime = lifetime

    def join(self, *, room: str, participant: Participant, now: datetime) -> JoinLink:
        expires = now + self._lifetime
        claims = {
            "iss": self._app_id,
            "aud": AUDIENCE,
            "sub": self._domain,
            "room": room,
            "nbf": int((now - CLOCK_SKEW).timestamp()),
            "exp": int(expires.timestamp()),
            "context": {
                "user": {
                    "id": participant.id,
                    "name": participant.name,
                    "moderator": participant.moderator,
                },
                "group": participant.hospital,
            },
        }
        token = jwt.encode(claims, self._secret.get_secret_value(), algorithm=ALGORITHM)
        return JoinLink(
            url=f"{self._base}/{room}?jwt={token}", room=room, token=token, expires_at=expires
        )
