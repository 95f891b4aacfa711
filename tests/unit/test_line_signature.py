"""LINE webhook: signature verification, acknowledge postbacks, and the endpoint's answers."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from pydantic import SecretStr

from services.notifier.adapters.line import (
    LineAcknowledgement,
    acknowledgements_in,
    verify_signature,
)
from services.notifier.container import InboundSecrets
from services.notifier.domain.errors import UnknownDelivery
from services.notifier.entrypoints import line_webhook
from services.notifier.entrypoints.deps import get_delivery_metrics, get_inbound_secrets
from services.notifier.service.delivery_metrics import DeliveryMetrics
from tests.fakes.line_server import sign

SECRET = "8c570fa6dd201bb328f1c1eac23a96d8"
DELIVERY_ID = "0b7c4f2e-5d1a-5c3e-9f60-2a4d8e1b7c90"
USER = "U4af4980629a0c1b9f5e3a2d7c8b61e02"
GROUP = "Ca56f94637c6a8f2d3b1e0f4a7c9d2e51"

# A webhook as LINE sends it: a text message, the acknowledge postback, a postback from another
# feature, a follow event, and an acknowledgement tapped in a group chat.
WEBHOOK: dict[str, Any] = {
    "destination": "Uxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "events": [
        {
            "type": "message",
            "message": {"type": "text", "id": "468789577898262530", "text": "ack=not-a-postback"},
            "webhookEventId": "01H810YECXQQZ37VAXPF6H9E6T",
            "deliveryContext": {"isRedelivery": False},
            "timestamp": 1692251666727,
            "source": {"type": "user", "userId": USER},
            "replyToken": "38ef843bde154d9b91c21320ffd17a0f",
            "mode": "active",
        },
        {
            "type": "postback",
            "postback": {"data": f"ack={DELIVERY_ID}"},
            "webhookEventId": "01H810YECXQQZ37VAXPF6H9E6U",
            "deliveryContext": {"isRedelivery": False},
            "timestamp": 1692251688123,
            "source": {"type": "user", "userId": USER},
            "replyToken": "b60d432864f44d079f6d8efe86cf404b",
            "mode": "active",
        },
        {
            "type": "postback",
            "postback": {"data": "menu=help"},
            "webhookEventId": "01H810YECXQQZ37VAXPF6H9E6V",
            "deliveryContext": {"isRedelivery": False},
            "timestamp": 1692251690000,
            "source": {"type": "user", "userId": USER},
            "mode": "active",
        },
        {
            "type": "follow",
            "follow": {"isUnblocked": False},
            "webhookEventId": "01H810YECXQQZ37VAXPF6H9E6W",
            "deliveryContext": {"isRedelivery": False},
            "timestamp": 1692251691000,
            "source": {"type": "user", "userId": USER},
            "mode": "active",
        },
        {
            "type": "postback",
            "postback": {"data": "ack=other-delivery"},
            "webhookEventId": "01H810YECXQQZ37VAXPF6H9E6X",
            "deliveryContext": {"isRedelivery": True},
            "timestamp": 1692251700500,
            "source": {"type": "group", "groupId": GROUP},
            "mode": "active",
        },
    ],
}


def test_good_signature_is_accepted() -> None:
    body = json.dumps(WEBHOOK).encode()
    assert verify_signature(channel_secret=SECRET, body=body, signature=sign(body, SECRET))


def test_tampered_body_is_refused() -> None:
    body = json.dumps(WEBHOOK).encode()
    signature = sign(body, SECRET)
    tampered = body.replace(DELIVERY_ID.encode(), b"11111111-1111-1111-1111-111111111111")
    assert not verify_signature(channel_secret=SECRET, body=tampered, signature=signature)


def test_wrong_secret_is_refused() -> None:
    body = json.dumps(WEBHOOK).encode()
    assert not verify_signature(
        channel_secret=SECRET, body=body, signature=sign(body, "another-secret")
    )


@pytest.mark.parametrize("garbage", ["", "not base64!", "c2hvcnQ=", "ไม่ใช่ลายเซ็น", "=" * 44])
def test_garbage_signature_is_refused(garbage: str) -> None:
    body = json.dumps(WEBHOOK).encode()
    assert not verify_signature(channel_secret=SECRET, body=body, signature=garbage)


def test_acknowledgements_are_read_from_postbacks_only() -> None:
    assert acknowledgements_in(WEBHOOK) == [
        LineAcknowledgement(
            delivery_id=DELIVERY_ID,
            user_id=USER,
            at=datetime(2023, 8, 17, 5, 54, 48, 123000, tzinfo=UTC),
        ),
        LineAcknowledgement(
            delivery_id="other-delivery",
            user_id=GROUP,
            at=datetime(2023, 8, 17, 5, 55, 0, 500000, tzinfo=UTC),
        ),
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"destination": "U0", "events": []},  # LINE checking the webhook URL
        {},
        {"events": "nope"},
        {"events": [{"type": "postback", "postback": {"data": "ack="}, "timestamp": 1}]},
        {"events": [{"type": "postback", "postback": {"data": "ack=x"}, "source": {}}]},
    ],
)
def test_nothing_to_acknowledge(body: dict[str, Any]) -> None:
    assert acknowledgements_in(body) == []


# --- the endpoint, with the database replaced ------------------------------------------------


class _Connection:
    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        yield


class _Pool:
    def __init__(self) -> None:
        self.acquired = 0

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[_Connection]:
        self.acquired += 1
        yield _Connection()


async def _post(
    monkeypatch: pytest.MonkeyPatch,
    *,
    secret: str | None,
    body: bytes,
    signature: str | None,
) -> tuple[httpx.Response, list[dict[str, Any]], _Pool]:
    recorded: list[dict[str, Any]] = []

    async def fake_acknowledge(connection: object, **kwargs: Any) -> bool:
        recorded.append(kwargs)
        if kwargs["delivery_id"] != DELIVERY_ID:
            raise UnknownDelivery(kwargs["delivery_id"])
        return True

    monkeypatch.setattr(line_webhook, "acknowledge", fake_acknowledge)
    pool = _Pool()
    app = FastAPI()
    app.include_router(line_webhook.router)
    reader = InMemoryMetricReader()
    metrics = DeliveryMetrics(MeterProvider(metric_readers=[reader]).get_meter("test"))
    app.state.runtime = SimpleNamespace(pool=pool)
    app.dependency_overrides[get_inbound_secrets] = lambda: InboundSecrets(
        line_channel_secret=SecretStr(secret) if secret is not None else None,
        sms_callback_token=None,
    )
    app.dependency_overrides[get_delivery_metrics] = lambda: metrics
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Line-Signature"] = signature
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifier") as client:
        response = await client.post("/line/webhook", content=body, headers=headers)
    return response, recorded, pool


async def test_signed_webhook_records_each_acknowledgement(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = json.dumps(WEBHOOK).encode()
    response, recorded, _ = await _post(
        monkeypatch, secret=SECRET, body=body, signature=sign(body, SECRET)
    )
    assert response.status_code == 200
    assert response.json() == {}
    assert recorded == [
        {
            "delivery_id": DELIVERY_ID,
            "acknowledged_by": USER,
            "channel": "line",
            "at": datetime(2023, 8, 17, 5, 54, 48, 123000, tzinfo=UTC),
        },
        {  # unknown to the notifier: ignored, the webhook still answers 200
            "delivery_id": "other-delivery",
            "acknowledged_by": GROUP,
            "channel": "line",
            "at": datetime(2023, 8, 17, 5, 55, 0, 500000, tzinfo=UTC),
        },
    ]


async def test_url_check_with_no_events_answers_200_without_the_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = b'{"destination":"U0","events":[]}'
    response, recorded, pool = await _post(
        monkeypatch, secret=SECRET, body=body, signature=sign(body, SECRET)
    )
    assert response.status_code == 200
    assert recorded == []
    assert pool.acquired == 0


@pytest.mark.parametrize("signature", [None, "", "bm9wZQ==", "wrong"])
async def test_missing_or_wrong_signature_is_401(
    monkeypatch: pytest.MonkeyPatch, signature: str | None
) -> None:
    body = json.dumps(WEBHOOK).encode()
    response, recorded, _ = await _post(monkeypatch, secret=SECRET, body=body, signature=signature)
    assert response.status_code == 401
    assert response.json()["resourceType"] == "OperationOutcome"
    assert recorded == []


async def test_signed_with_another_secret_is_401(monkeypatch: pytest.MonkeyPatch) -> None:
    body = json.dumps(WEBHOOK).encode()
    response, recorded, _ = await _post(
        monkeypatch, secret=SECRET, body=body, signature=sign(body, "not-our-secret")
    )
    assert response.status_code == 401
    assert recorded == []


async def test_unconfigured_line_is_503(monkeypatch: pytest.MonkeyPatch) -> None:
    body = json.dumps(WEBHOOK).encode()
    response, recorded, _ = await _post(
        monkeypatch, secret=None, body=body, signature=sign(body, SECRET)
    )
    assert response.status_code == 503
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "LINE is not configured" in json.dumps(outcome, ensure_ascii=False)
    assert recorded == []
