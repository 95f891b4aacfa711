"""Builds the channel adapters the settings configure (a channel left out is 'not configured':
its deliveries fail for good and fall back to the hospital's next channel)."""

from __future__ import annotations

import httpx

from services.notifier.adapters.email import EmailChannel
from services.notifier.adapters.line import LineChannel
from services.notifier.adapters.sms import (
    THAIBULKSMS_BASE_URL,
    GenericSmsChannel,
    ThaiBulkSmsChannel,
)
from services.notifier.adapters.webhook import WebhookChannel
from services.notifier.config import NotifierSettings, revealed
from services.notifier.domain.model import Channel
from services.notifier.service.dispatch import DeliveryChannel


def build_channels(
    settings: NotifierSettings, client: httpx.AsyncClient
) -> dict[Channel, DeliveryChannel]:
    sms_api_key = revealed(settings.notifier_sms_api_key)
    sms_api_secret = revealed(settings.notifier_sms_api_secret)
    line_token = revealed(settings.notifier_line_channel_token)
    channels: dict[Channel, DeliveryChannel] = {
        Channel.WEBHOOK: WebhookChannel(
            client=client,
            url=settings.notifier_webhook_url,
            secret=revealed(settings.notifier_webhook_secret),
        )
    }
    if line_token:
        channels[Channel.LINE] = LineChannel(
            client=client,
            base_url=settings.notifier_line_base_url,
            channel_access_token=line_token,
        )
    if settings.notifier_sms_vendor == "thaibulksms":
        if not (sms_api_key and sms_api_secret):
            raise ValueError("ThaiBulkSMS needs FT_NOTIFIER_SMS_API_KEY and _API_SECRET")
        channels[Channel.SMS] = ThaiBulkSmsChannel(
            client=client,
            base_url=settings.notifier_sms_url or THAIBULKSMS_BASE_URL,
            api_key=sms_api_key,
            api_secret=sms_api_secret,
            sender=settings.notifier_sms_sender,
        )
    elif settings.notifier_sms_vendor == "generic":
        if not (settings.notifier_sms_url and sms_api_key):
            raise ValueError("the generic SMS gateway needs FT_NOTIFIER_SMS_URL and _API_KEY")
        channels[Channel.SMS] = GenericSmsChannel(
            client=client,
            url=settings.notifier_sms_url,
            api_key=sms_api_key,
            sender=settings.notifier_sms_sender,
            callback_url=(
                f"{settings.notifier_public_url.rstrip('/')}/sms/delivery-reports"
                if revealed(settings.notifier_sms_callback_token)
                else None
            ),
        )
    if settings.notifier_smtp_host:
        channels[Channel.EMAIL] = EmailChannel(
            host=settings.notifier_smtp_host,
            port=settings.notifier_smtp_port,
            sender=settings.notifier_smtp_sender,
            username=settings.notifier_smtp_username,
            password=revealed(settings.notifier_smtp_password),
            start_tls=settings.notifier_smtp_starttls,
            timeout_s=settings.notifier_http_timeout_s,
        )
    return channels
