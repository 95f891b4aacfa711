"""Delivery receipts: a text that reached the phone shows as delivered on the referral's timeline;
a text the gateway could not deliver fails and the person's next channel (LINE) takes over; a
notification names a person directly; bad reports are refused with the reason."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from shared.fhir.notifications import notification_request_message
from shared.messaging.topics import NOTIFICATION_REQUESTS
from shared.vocabulary.notification_categories import NotificationCategory
from tests.e2e.harness import (
    FAR_AWAY_LINE,
    FAR_AWAY_PHONE,
    NOTIFIER_URL,
    ON_CALL_PHONE,
    SMS_CALLBACK_TOKEN,
    post_referral_to,
    texts_about,
)
from tests.fakes.line_server import FakeLineState
from tests.fakes.sms_gateway import FakeSmsGateway
from tests.support import TestStack, as_hospital, eventually

pytestmark = pytest.mark.e2e


async def _outcomes(api: httpx.AsyncClient, referral_id: str) -> set[tuple[str, str, str]]:
    """(event, channel, first recipient) of the notification steps on the timeline."""
    steps = (await api.get(f"/referrals/{referral_id}")).json()["timeline"]
    return {
        (s["event"], s["detail"]["channel"][0], s["detail"]["recipient"][0])
        for s in steps
        if s["event"].startswith("notification-")
    }


async def test_a_text_that_reached_the_phone_is_delivered_on_the_timeline(
    referral_api: httpx.AsyncClient, sms_gateway: FakeSmsGateway
) -> None:
    referral_id = await post_referral_to(referral_api, "kantang-hospital")
    (text,) = await eventually(lambda: texts_about(sms_gateway, referral_id), what="the page")
    assert text["to"] == f"66{ON_CALL_PHONE[1:]}"

    async def delivered() -> set[tuple[str, str, str]] | None:
        seen = await _outcomes(referral_api, referral_id)
        wanted = ("notification-delivered", "sms", "Practitioner/dr-on-call")
        return seen if wanted in seen else None

    seen = await eventually(delivered, what="the delivery report on the timeline")
    assert ("notification-sent", "sms", "Practitioner/dr-on-call") in seen
    assert (text["reference"], 200) in sms_gateway.reports


async def test_a_text_the_phone_never_got_falls_back_to_line(
    stack: TestStack,
    referral_api: httpx.AsyncClient,
    sms_gateway: FakeSmsGateway,
    line_platform: FakeLineState,
) -> None:
    # A referral to a hospital reached by webhook, then a notification naming one person.
    referral_id = await post_referral_to(referral_api, "yan-ta-khao-hospital")
    sms_gateway.undeliverable.add(f"66{FAR_AWAY_PHONE[1:]}")
    message = notification_request_message(
        request_id=f"far-away-{referral_id}",
        category=NotificationCategory.STROKE_ALERT,
        referral_id=referral_id,
        recipients=[],
        english="Stroke alert: please call the hub.",
        thai="แจ้งเตือน stroke: กรุณาโทรกลับโรงพยาบาลแม่ข่าย",
        link="https://ft.example/r/far-away",
        sender="Organization/trang-hospital",
        source_endpoint="urn:test",
    )
    request = json.loads(message.to_json())
    request["entry"][1]["resource"]["recipient"] = [{"reference": "Practitioner/dr-far-away"}]
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(
            NOTIFICATION_REQUESTS.name, json.dumps(request).encode(), key=referral_id.encode()
        )
    finally:
        await producer.stop()

    async def pushed() -> list[Any] | None:
        found = [p for p in line_platform.pushes if p.to == FAR_AWAY_LINE]
        found = [p for p in found if "please call the hub" in json.dumps(p.messages)]
        return found or None

    await eventually(pushed, what="the LINE push after the undelivered SMS")

    async def failed_then_sent() -> set[tuple[str, str, str]] | None:
        seen = await _outcomes(referral_api, referral_id)
        wanted = {
            ("notification-failed", "sms", "Practitioner/dr-far-away"),
            ("notification-sent", "line", "Practitioner/dr-far-away"),
        }
        return seen if wanted <= seen else None

    await eventually(failed_then_sent, what="the failure and the fallback on the timeline")
    async with httpx.AsyncClient(
        base_url=NOTIFIER_URL, headers=as_hospital("yan-ta-khao-hospital")
    ) as n:
        log = (await n.get("/deliveries", params={"referral": referral_id})).json()
    (sms,) = [d for d in log if d["channel"] == "sms"]
    assert sms["recipient"] == "Practitioner/dr-far-away"
    assert sms["status"] == "failed"
    assert sms["last_error"] == "SMS gateway: absent subscriber"


async def test_bad_delivery_reports_are_refused_with_the_reason() -> None:
    url = f"{NOTIFIER_URL}/sms/delivery-reports"
    good = {"Authorization": f"Bearer {SMS_CALLBACK_TOKEN}"}
    report = {"reference": "00000000-0000-0000-0000-000000000000", "status": "delivered"}
    async with httpx.AsyncClient() as client:
        refused = await client.post(url, json=report, headers={"Authorization": "Bearer wrong"})
        assert refused.status_code == 401
        unknown = await client.post(url, json=report, headers=good)
        assert unknown.status_code == 404
        assert unknown.json()["resourceType"] == "OperationOutcome"
        invalid = await client.post(url, json={**report, "status": "read"}, headers=good)
        assert invalid.status_code in {400, 422}
        assert invalid.json()["resourceType"] == "OperationOutcome"
