"""Signed, expiring tokens for links that act without a login (acknowledge an alert from an SMS,
open a hospital's live feed on a ward screen). itsdangerous does the signing (HMAC-SHA256 with
a timestamp); the purpose is its salt, so a token made for one use is refused for another."""

from __future__ import annotations

import hashlib

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner


class InvalidLink(ValueError):
    """The token is forged, damaged or made for another purpose."""


class ExpiredLink(InvalidLink):
    """The token was genuine but is older than it may be."""


class LinkSigner:
    def __init__(self, *, secret: str, purpose: str, max_age_s: float) -> None:
        # itsdangerous counts whole seconds.
        self._signer = TimestampSigner(secret, salt=purpose, digest_method=hashlib.sha256)
        self._max_age_s = int(max_age_s)

    def sign(self, value: str) -> str:
        """``value`` plus a timestamp and signature, URL-safe (kept short: SMS links)."""
        return self._signer.sign(value).decode()

    def verify(self, token: str) -> str:
        """The value the token was made for; raises ExpiredLink or InvalidLink."""
        try:
            return self._signer.unsign(token, max_age=self._max_age_s).decode()
        except SignatureExpired as error:
            raise ExpiredLink("the link has expired") from error
        except BadSignature as error:
            raise InvalidLink("the link is not valid") from error
