"""A permanently failing delivery is dead-lettered with its reason and an operator's replay
delivers it (audited; hospitals are refused); an acknowledgement reaches the referral's
timeline."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import asyncpg
import httpx
import pytest

from tests.e2e.harness import (
    LINE_SECRET,
    SERVICE_PORTS,
    WebhookReceiver,
    intake_trace,
    post_referral_to,
    texts_about,
    texts_to,
)
from tests.fakes.line_server import FakeLineState, sign
from tests.fakes.sms_gateway import FakeSmsGateway
from tests.support import TestStack, as_hospital, as_operator, at_least, eventually, referral_bundle

pytestmark = pytest.mark.e2e

HUB = "trang-hospital"


async def test_dead_letter_replay_and_acknowledgement(
    referral_api: httpx.AsyncClient, webhook: WebhookReceiver, stack: TestStack
) -> None:
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    webhook.refuse.add(referral_id)
    response = await referral_api.post(
        "/fhir/$process-message", json=bundle, headers={"Content-Type": "application/fhir+json"}
    )
    assert response.status_code == 200
    notifier_url = f"http://127.0.0.1:{SERVICE_PORTS['notifier']}"
    async with (
        httpx.AsyncClient(base_url=notifier_url, headers=as_operator(), timeout=30) as operator,
        httpx.AsyncClient(base_url=notifier_url, headers=as_hospital(HUB), timeout=30) as hub,
    ):

        async def dead_lettered() -> dict[str, Any] | None:
            letters = (await operator.get("/dead-letters")).json()
            return next((d for d in letters if d["referral_id"] == referral_id), None)

        letter = await eventually(dead_lettered, what="the dead letter")
        assert letter["last_error"] == "webhook answered HTTP 410"
        assert letter["attempts"] == 1  # a permanent failure is not retried
        assert webhook.for_referral(referral_id) == []
        # The hospital the alert was for may neither list dead letters nor replay them.
        for refused in (
            await hub.get("/dead-letters"),
            await hub.post(f"/deliveries/{letter['id']}/replay"),
        ):
            assert refused.status_code == 403
            assert refused.json()["resourceType"] == "OperationOutcome"
            assert refused.json()["issue"][0]["code"] == "forbidden"

        webhook.refuse.discard(referral_id)
        replayed = await operator.post(f"/deliveries/{letter['id']}/replay")
        assert replayed.status_code == 200
        delivered = await eventually(
            lambda: at_least(webhook.for_referral(referral_id)), what="the replayed delivery"
        )
        assert delivered[0].idempotency_key == letter["id"]  # the same delivery, not a new one
        again = await operator.post(f"/deliveries/{letter['id']}/replay")
        assert again.status_code == 409  # only failed deliveries are replayed
        audit = await _replay_audit(stack, letter["id"])
        assert audit == [(referral_id, "operator:demo-operator")]

        acknowledged = await hub.post(f"/deliveries/{letter['id']}/acknowledge")
        assert acknowledged.json() == {"id": letter["id"], "acknowledged": True, "first": True}

    async def on_timeline() -> list[dict[str, Any]] | None:
        steps = (await referral_api.get(f"/referrals/{referral_id}")).json()["timeline"]
        found = [s for s in steps if s["event"] == "notification-acknowledged"]
        return found or None

    steps = await eventually(on_timeline, what="the acknowledgement on the timeline")
    timeline = (await referral_api.get(f"/referrals/{referral_id}")).json()["timeline"]
    outcomes = [(s["event"], s["detail"]["channel"]) for s in timeline if "channel" in s["detail"]]
    # The webhook failed, and with it the alert as a whole (nobody else to reach: no page was
    # open to show it live), then it was replayed and sent.
    assert sorted(outcomes) == [
        ("notification-acknowledged", ["webhook"]),
        ("notification-failed", []),
        ("notification-failed", ["webhook"]),
        ("notification-sent", ["webhook"]),
    ]
    assert [
        s["detail"].get("outcome") for s in timeline if s["event"] == "notification-failed"
    ].count("nobody-reached") == 1
    assert steps[0]["detail"]["recipient"] == [f"Organization/{HUB}"]


async def test_a_channel_that_fails_for_good_falls_back_to_sms(
    referral_api: httpx.AsyncClient, sms_gateway: FakeSmsGateway
) -> None:
    referral_id = await post_referral_to(referral_api, "hat-samran-hospital")

    async def texted() -> list[dict[str, Any]] | None:
        return await texts_about(sms_gateway, referral_id) or None

    messages = await eventually(texted, what="the SMS after e-mail failed")
    assert messages[0]["to"] == "66812345678"
    assert "Stroke referral from Sikao Hospital" in messages[0]["text"]
    assert "HN-6501234" not in messages[0]["text"]

    async def on_timeline() -> set[tuple[str, str]] | None:
        steps = (await referral_api.get(f"/referrals/{referral_id}")).json()["timeline"]
        seen = {
            (s["event"], s["detail"]["channel"][0])
            for s in steps
            if s["event"].startswith("notification-")
        }
        return seen if ("notification-sent", "sms") in seen else None

    seen = await eventually(on_timeline, what="the SMS outcome on the timeline")
    assert ("notification-failed", "email") in seen


async def test_an_unacknowledged_alert_escalates_up_the_ladder_on_time(
    referral_api: httpx.AsyncClient, sms_gateway: FakeSmsGateway, stack: TestStack
) -> None:
    referral_id = await post_referral_to(referral_api, "ratsada-hospital")
    await eventually(lambda: texts_to(sms_gateway, referral_id), what="the page")
    paged_at = time.monotonic()

    async def escalated_to_group() -> list[str] | None:
        texts = await texts_to(sms_gateway, referral_id)
        return texts if "66822222222" in texts else None

    texts = await eventually(escalated_to_group, timeout=30, what="the escalation to the group")
    # Ratsada reads its notifications in Thai.
    message = (await texts_about(sms_gateway, referral_id))[0]["text"]
    assert message.startswith("ส่งต่อผู้ป่วย stroke จาก Sikao Hospital NIHSS 14")
    # Paged, paged again after 2 s unanswered, then the group after 2 s more.
    assert texts == ["66811111111", "66811111111", "66822222222"]
    assert time.monotonic() - paged_at >= 4
    steps = (await referral_api.get(f"/referrals/{referral_id}")).json()["timeline"]
    assert [s["event"] for s in steps].count("notification-escalated") == 2

    # Each step is an event of the referral's trace, as the trace UI shows it.
    async def escalations_traced() -> list[int] | None:
        trace = await intake_trace(stack, referral_id, "notifier escalate")
        events = [
            json.loads(annotation["value"])
            for span in trace
            if span["name"] == "notifier escalate"
            for annotation in span.get("annotations", [])
        ]
        steps = sorted(event["escalated"]["step"] for event in events if "escalated" in event)
        return steps if len(steps) == 2 else None

    assert await eventually(escalations_traced, what="both escalations traced") == [1, 2]


async def test_an_acknowledged_alert_does_not_escalate(
    referral_api: httpx.AsyncClient, sms_gateway: FakeSmsGateway
) -> None:
    referral_id = await post_referral_to(referral_api, "ratsada-hospital")
    await eventually(lambda: texts_to(sms_gateway, referral_id), what="the page")
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{SERVICE_PORTS['notifier']}",
        headers=as_hospital("ratsada-hospital"),
    ) as notifier:
        log = (await notifier.get("/deliveries", params={"referral": referral_id})).json()
        acknowledged = await notifier.post(f"/deliveries/{log[0]['id']}/acknowledge")
        assert acknowledged.status_code == 200
    await asyncio.sleep(4)  # two escalation periods
    assert await texts_to(sms_gateway, referral_id) == ["66811111111"]


async def test_a_line_alert_is_acknowledged_from_its_button(
    referral_api: httpx.AsyncClient, line_platform: FakeLineState
) -> None:
    referral_id = await post_referral_to(referral_api, "wang-wiset-hospital")

    async def pushed() -> list[Any] | None:
        found = [p for p in line_platform.pushes if referral_id in json.dumps(p.messages)]
        return found or None

    push = (await eventually(pushed, what="the LINE push"))[0]
    assert push.to == "Uwang-wiset-team"
    postback = next(
        action["data"] for action in _actions(push.messages) if action.get("type") == "postback"
    )
    # The stroke team taps "Acknowledge": LINE calls the notifier's webhook, signed.
    event_body = json.dumps(
        {
            "destination": "Ubot",
            "events": [
                {
                    "type": "postback",
                    "timestamp": int(time.time() * 1000),
                    "source": {"type": "user", "userId": "Udr-on-call"},
                    "postback": {"data": postback},
                    "mode": "active",
                    "webhookEventId": "01HTEST",
                    "deliveryContext": {"isRedelivery": False},
                    "replyToken": "r",
                }
            ],
        }
    ).encode()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{SERVICE_PORTS['notifier']}") as n:
        forged = await n.post(
            "/line/webhook", content=event_body, headers={"X-Line-Signature": "bm90IGl0"}
        )
        assert forged.status_code == 401
        signed = await n.post(
            "/line/webhook",
            content=event_body,
            headers={"X-Line-Signature": sign(event_body, LINE_SECRET)},
        )
        assert signed.status_code == 200

    async def acknowledged() -> list[dict[str, Any]] | None:
        steps = (await referral_api.get(f"/referrals/{referral_id}")).json()["timeline"]
        found = [s for s in steps if s["event"] == "notification-acknowledged"]
        return found or None

    await eventually(acknowledged, what="the acknowledgement on the timeline")
    await asyncio.sleep(3)  # past the escalation period: nothing escalates
    assert len([p for p in line_platform.pushes if referral_id in json.dumps(p.messages)]) == 1


async def _replay_audit(stack: TestStack, delivery_id: str) -> list[tuple[str, str]]:
    """(referral, who) of each replay of the delivery, as the notifier audited it."""
    connection = await asyncpg.connect(stack.database_url)
    try:
        rows = await connection.fetch(
            "SELECT referral_id, replayed_by FROM notifier.replay_audit WHERE delivery_id = $1",
            delivery_id,
        )
    finally:
        await connection.close()
    return [(row["referral_id"], row["replayed_by"]) for row in rows]


async def test_the_referring_hospital_reads_the_delivery_log_a_third_hospital_is_refused(
    referral_api: httpx.AsyncClient,
) -> None:
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    response = await referral_api.post(
        "/fhir/$process-message", json=bundle, headers={"Content-Type": "application/fhir+json"}
    )
    assert response.status_code == 200
    notifier_url = f"http://127.0.0.1:{SERVICE_PORTS['notifier']}"
    async with httpx.AsyncClient(base_url=notifier_url, timeout=30) as notifier:

        async def read_by(headers: dict[str, str]) -> httpx.Response:
            return await notifier.get(
                "/deliveries", params={"referral": referral_id}, headers=headers
            )

        async def hub_alerted() -> list[dict[str, Any]] | None:
            log: list[dict[str, Any]] = (await read_by(as_operator())).json()
            return log or None

        log = await eventually(hub_alerted, what="the hub's alerts")
        assert HUB in {d["hospital"] for d in log}
        # Sikao asked for the alert: it sees whom it reached; Palian takes no part.
        seen_by_sikao = (await read_by(as_hospital("sikao-hospital"))).json()
        assert {d["id"] for d in log} <= {d["id"] for d in seen_by_sikao}
        refused = await read_by(as_hospital("palian-hospital"))
        assert refused.status_code == 403
        assert refused.json()["issue"][0]["code"] == "forbidden"


def _actions(node: Any) -> list[dict[str, Any]]:
    """Every action object in a Flex message."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if isinstance(node.get("action"), dict):
            found.append(node["action"])
        for value in node.values():
            found.extend(_actions(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_actions(value))
    return found
