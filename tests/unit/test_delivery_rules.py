"""Notifier delivery rules: which failures are retried, how long to wait, idempotency keys."""

from __future__ import annotations

import httpx
import pytest

from services.notifier.adapters.webhook import WebhookChannel
from services.notifier.domain.model import (
    Channel,
    Delivery,
    PermanentDeliveryError,
    RetryPolicy,
    TransientDeliveryError,
)


def _delivery() -> Delivery:
    return Delivery(
        id="d-1",
        request_id="req",
        referral_id="ref",
        recipient="Organization/trang-hospital",
        channel=Channel.WEBHOOK,
        priority="stat",
        body={"text": "hello"},
    )


def test_delivery_id_is_stable_per_request_recipient_and_channel() -> None:
    first = Delivery.delivery_id(
        request_id="r", recipient="Organization/a", channel=Channel.WEBHOOK
    )
    again = Delivery.delivery_id(
        request_id="r", recipient="Organization/a", channel=Channel.WEBHOOK
    )
    other = Delivery.delivery_id(
        request_id="r", recipient="Organization/b", channel=Channel.WEBHOOK
    )
    assert first == again != other


def test_backoff_grows_is_capped_and_honours_retry_after() -> None:
    policy = RetryPolicy(max_attempts=5, base_s=1.0, cap_s=8.0)
    assert 0.5 <= policy.delay_after(1) <= 1.0
    assert 4.0 <= policy.delay_after(4) <= 8.0
    assert 4.0 <= policy.delay_after(30) <= 8.0
    assert policy.delay_after(1, retry_after_s=20) == 20
    assert not policy.gives_up_after(4)
    assert policy.gives_up_after(5)


async def _send_with_status(status: int, headers: dict[str, str] | None = None) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers=headers or {})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        await WebhookChannel(client=client, url="http://hook.test/", secret=None).send(_delivery())


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 408])
async def test_server_errors_and_throttling_are_retried(status: int) -> None:
    with pytest.raises(TransientDeliveryError):
        await _send_with_status(status)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
async def test_client_errors_are_not_retried(status: int) -> None:
    with pytest.raises(PermanentDeliveryError, match=str(status)):
        await _send_with_status(status)


async def test_retry_after_is_read() -> None:
    with pytest.raises(TransientDeliveryError) as throttled:
        await _send_with_status(429, {"Retry-After": "7"})
    assert throttled.value.retry_after_s == 7


async def test_signed_request_carries_idempotency_key_and_verifiable_signature() -> None:
    import hashlib
    import hmac

    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        await WebhookChannel(client=client, url="http://hook.test/", secret="s3cret").send(
            _delivery()
        )
    request = seen[0]
    assert request.headers["Idempotency-Key"] == "d-1"
    signed = request.headers["X-FastTrack-Timestamp"].encode() + b"." + request.content
    expected = hmac.new(b"s3cret", signed, hashlib.sha256).hexdigest()
    assert request.headers["X-FastTrack-Signature"] == f"sha256={expected}"
