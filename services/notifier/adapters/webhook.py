"""The webhook channel: POSTs a notification as JSON, signed, with an idempotency key."""

from __future__ import annotations

import hashlib
import hmac
import time

import httpx
import orjson

from services.notifier.adapters.http_status import is_retryable, retry_after_seconds
from services.notifier.domain.model import (
    Delivery,
    PermanentDeliveryError,
    TransientDeliveryError,
)


class WebhookChannel:
    def __init__(self, *, client: httpx.AsyncClient, url: str, secret: str | None) -> None:
        self._client = client
        # Parsed once: httpx parses a URL given as text on every call.
        self._url = httpx.URL(url)
        self._secret = secret.encode() if secret else None

    async def send(self, delivery: Delivery) -> None:
        # Compact UTF-8 JSON, the bytes the standard library wrote (a body holds no float).
        body = orjson.dumps(delivery.body)
        headers = {"Content-Type": "application/json", "Idempotency-Key": delivery.id}
        if self._secret is not None:
            timestamp = str(int(time.time()))
            digest = hmac.new(self._secret, timestamp.encode() + b"." + body, hashlib.sha256)
            headers["X-FastTrack-Timestamp"] = timestamp
            headers["X-FastTrack-Signature"] = f"sha256={digest.hexdigest()}"
        try:
            response = await self._client.post(self._url, content=body, headers=headers)
        except httpx.TimeoutException:
            raise TransientDeliveryError("webhook timed out") from None
        except httpx.TransportError as error:
            raise TransientDeliveryError(f"webhook unreachable: {type(error).__name__}") from None
        if response.is_success:
            return
        reason = f"webhook answered HTTP {response.status_code}"
        if is_retryable(response.status_code):
            raise TransientDeliveryError(
                reason, retry_after_s=retry_after_seconds(response.headers.get("Retry-After"))
            )
        raise PermanentDeliveryError(reason)
