"""Links the notifier hands out: acknowledge an alert (one tap from an SMS or e-mail, no login:
the signed link is the proof it reached that recipient) and a hospital's live feed."""

from __future__ import annotations

import base64
import uuid

from shared.signed_links import LinkSigner


class AcknowledgementLinks:
    def __init__(self, *, public_url: str, secret: str, max_age_s: float) -> None:
        self._base = public_url.rstrip("/")
        self._signer = LinkSigner(secret=secret, purpose="acknowledge", max_age_s=max_age_s)

    def link_for(self, delivery_id: str) -> str:
        return f"{self._base}/ack/{self._signer.sign(_compact(delivery_id))}"

    def delivery_of(self, token: str) -> str:
        """The delivery a link acknowledges; raises InvalidLink / ExpiredLink."""
        return _expand(self._signer.verify(token))


class LiveTickets:
    """A ticket names a hospital's live feed: for pages (EventSource cannot send a header)."""

    def __init__(self, *, secret: str, max_age_s: float) -> None:
        self._signer = LinkSigner(secret=secret, purpose="live-feed", max_age_s=max_age_s)

    def issue(self, organization: str) -> str:
        return self._signer.sign(organization)

    def organization_of(self, ticket: str) -> str:
        return self._signer.verify(ticket)


def _compact(delivery_id: str) -> str:
    # 22 characters instead of 36: every character of an SMS counts.
    return base64.urlsafe_b64encode(uuid.UUID(delivery_id).bytes).decode().rstrip("=")


def _expand(compact: str) -> str:
    return str(uuid.UUID(bytes=base64.urlsafe_b64decode(compact + "==")))
