"""Builds the channel adapters the settings configure (a channel left out is 'not configured':
its deliveries fail for good and fall back to the hospital's next channel)."""

from __future__ import annotations

import httpx

from services.notifier.adapters.webhook import WebhookChannel
from services.notifier.config import NotifierSettings
from services.notifier.domain.model import Channel
from services.notifier.service.dispatcher import DeliveryChannel


def build_channels(
    settings: NotifierSettings, client: httpx.AsyncClient
) -> dict[Channel, DeliveryChannel]:
    channels: dict[Channel, DeliveryChannel] = {
        Channel.WEBHOOK: WebhookChannel(
            client=client,
            url=settings.notifier_webhook_url,
            secret=settings.notifier_webhook_secret,
        )
    }
    return channels
