"""The notifier's collaborators, in one typed container built by ``bootstrap.py``.

Entry points receive it (or one of its parts) through the ``Annotated`` dependencies of
``entrypoints/deps.py``; consumers and workers receive their parts when they are wired.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fastapi.templating import Jinja2Templates
from pydantic import SecretStr

from services.notifier.domain.contacts import ContactBook
from services.notifier.service.delivery_metrics import DeliveryMetrics
from services.notifier.service.links import AcknowledgementLinks, LiveTickets
from services.notifier.workers.dispatcher import DeliveryDispatcher
from services.notifier.workers.live_feed import LiveFeed


@dataclass(frozen=True)
class LivePages:
    """What the hospitals' live pages need: tickets that open a feed from a browser, the feed's
    wake-ups, and where the pages are published."""

    tickets: LiveTickets
    feed: LiveFeed
    public_url: str
    ticket_ttl_s: float
    # A page connecting without Last-Event-ID is first sent the events of this past window.
    backlog: timedelta


@dataclass(frozen=True)
class InboundSecrets:
    """Secrets that authenticate callers of the notifier: LINE's webhook signature key and the
    SMS gateway's delivery-report token. None: that entry point is not configured (503)."""

    line_channel_secret: SecretStr | None
    sms_callback_token: SecretStr | None


@dataclass(frozen=True)
class NotifierContainer:
    contacts: ContactBook
    dispatcher: DeliveryDispatcher
    delivery_metrics: DeliveryMetrics
    acknowledgement_links: AcknowledgementLinks
    live: LivePages
    secrets: InboundSecrets
    # The service's HTML pages (templates/; their assets in static/).
    pages: Jinja2Templates
