"""Acknowledgement links and live-feed tickets: short, and refused when forged, reused for
another purpose, or expired."""

from __future__ import annotations

import time
import uuid

import pytest

from services.notifier.service.links import AcknowledgementLinks, LiveTickets
from shared.signed_links import ExpiredLink, InvalidLink, LinkSigner


def test_an_acknowledgement_link_names_its_delivery_and_fits_an_sms() -> None:
    links = AcknowledgementLinks(public_url="https://ft.example/", secret="s", max_age_s=60)
    delivery_id = str(uuid.uuid4())
    link = links.link_for(delivery_id)
    assert link.startswith("https://ft.example/ack/")
    assert len(link) < 110  # leaves most of a 201-character SMS for the alert itself
    assert links.delivery_of(link.rsplit("/", 1)[1]) == delivery_id


def test_a_tampered_or_foreign_token_is_refused() -> None:
    links = AcknowledgementLinks(public_url="https://ft.example", secret="s", max_age_s=60)
    token = links.link_for(str(uuid.uuid4())).rsplit("/", 1)[1]
    with pytest.raises(InvalidLink):
        links.delivery_of(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    other_secret = AcknowledgementLinks(public_url="https://ft.example", secret="t", max_age_s=60)
    with pytest.raises(InvalidLink):
        other_secret.delivery_of(token)
    # A live-feed ticket signed with the same secret does not acknowledge anything.
    ticket = LiveTickets(secret="s", max_age_s=60).issue("trang-hospital")
    with pytest.raises(InvalidLink):
        links.delivery_of(ticket)


def test_an_old_token_has_expired() -> None:
    signer = LinkSigner(secret="s", purpose="test", max_age_s=1)
    token = signer.sign("value")
    assert signer.verify(token) == "value"
    time.sleep(2.1)
    with pytest.raises(ExpiredLink):
        signer.verify(token)
