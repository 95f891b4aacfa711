"""A permanently failing delivery is dead-lettered with its reason and a replay delivers it;
an acknowledgement reaches the referral's timeline."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.e2e.harness import SERVICE_PORTS, WebhookReceiver
from tests.fakes.sms_gateway import FakeSmsGateway
from tests.support import as_hospital, at_least, eventually, referral_bundle

pytestmark = pytest.mark.e2e

HUB = "trang-hospital"


async def test_dead_letter_replay_and_acknowledgement(
    referral_api: httpx.AsyncClient, webhook: WebhookReceiver
) -> None:
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    webhook.refuse.add(referral_id)
    response = await referral_api.post(
        "/fhir/$process-message", json=bundle, headers={"Content-Type": "application/fhir+json"}
    )
    assert response.status_code == 200
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{SERVICE_PORTS['notifier']}",
        headers=as_hospital(HUB),
        timeout=30,
    ) as notifier:

        async def dead_lettered() -> dict[str, Any] | None:
            letters = (await notifier.get("/dead-letters")).json()
            return next((d for d in letters if d["referral_id"] == referral_id), None)

        letter = await eventually(dead_lettered, what="the dead letter")
        assert letter["last_error"] == "webhook answered HTTP 410"
        assert letter["attempts"] == 1  # a permanent failure is not retried
        assert webhook.for_referral(referral_id) == []

        webhook.refuse.discard(referral_id)
        replayed = await notifier.post(f"/deliveries/{letter['id']}/replay")
        assert replayed.status_code == 200
        delivered = await eventually(
            lambda: at_least(webhook.for_referral(referral_id)), what="the replayed delivery"
        )
        assert delivered[0].idempotency_key == letter["id"]  # the same delivery, not a new one
        again = await notifier.post(f"/deliveries/{letter['id']}/replay")
        assert again.status_code == 409  # only failed deliveries are replayed

        acknowledged = await notifier.post(f"/deliveries/{letter['id']}/acknowledge")
        assert acknowledged.json() == {"id": letter["id"], "acknowledged": True, "first": True}

    async def on_timeline() -> list[dict[str, Any]] | None:
        steps = (await referral_api.get(f"/referrals/{referral_id}")).json()["timeline"]
        found = [s for s in steps if s["event"] == "notification-acknowledged"]
        return found or None

    steps = await eventually(on_timeline, what="the acknowledgement on the timeline")
    events = [
        s["event"] for s in (await referral_api.get(f"/referrals/{referral_id}")).json()["timeline"]
    ]
    assert events.count("notification-failed") == 1
    assert events.count("notification-sent") == 1
    assert steps[0]["detail"]["recipient"] == [f"Organization/{HUB}"]


async def test_a_channel_that_fails_for_good_falls_back_to_sms(
    referral_api: httpx.AsyncClient, sms_gateway: FakeSmsGateway
) -> None:
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    text = json.dumps(bundle).replace(
        "Organization/trang-hospital", "Organization/hat-samran-hospital"
    )
    response = await referral_api.post(
        "/fhir/$process-message", content=text, headers={"Content-Type": "application/fhir+json"}
    )
    assert response.status_code == 200, response.text

    async def texted() -> list[dict[str, Any]] | None:
        found = [m for m in sms_gateway.messages if referral_id in m["text"]]
        return found or None

    messages = await eventually(texted, what="the SMS after LINE failed")
    assert messages[0]["to"] == "66812345678"
    assert "Stroke referral from Sikao Hospital" in messages[0]["text"]
    assert "HN-6501234" not in messages[0]["text"]

    async def on_timeline() -> list[dict[str, Any]] | None:
        steps = (await referral_api.get(f"/referrals/{referral_id}")).json()["timeline"]
        outcomes = [s for s in steps if s["event"].startswith("notification-")]
        return outcomes if len(outcomes) >= 2 else None

    outcomes = await eventually(on_timeline, what="both outcomes on the timeline")
    assert sorted((s["event"], s["detail"]["channel"][0]) for s in outcomes) == [
        ("notification-failed", "line"),
        ("notification-sent", "sms"),
    ]
