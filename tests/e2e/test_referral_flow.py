"""One referral crosses all three services over the real Kafka broker and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.harness import ServiceProcesses, WebhookReceiver, post_in_new_trace
from tests.support import at_least, eventually, referral_bundle

pytestmark = pytest.mark.e2e

FHIR_JSON = {"Content-Type": "application/fhir+json"}


async def _timeline_events(api: httpx.AsyncClient, referral_id: str) -> list[str]:
    response = await api.get(f"/referrals/{referral_id}")
    if response.status_code != 200:
        return []
    return [step["event"] for step in response.json()["timeline"]]


async def test_referral_reaches_the_webhook_with_every_step_on_its_timeline_in_one_trace(
    referral_api: httpx.AsyncClient, services: ServiceProcesses, webhook: WebhookReceiver
) -> None:
    bundle, referral_id, message_id = referral_bundle(teleconsult=True)
    response, trace_id = await post_in_new_trace(referral_api, bundle)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    answer = response.json()
    assert answer["entry"][0]["resource"]["response"] == {"identifier": message_id, "code": "ok"}

    # The hub's stroke team and the on-call neurologist (teleconsult) are both told.
    received = await eventually(
        lambda: at_least(webhook.for_referral(referral_id), 2), what="two notifications"
    )
    recipients = sorted(n.body["recipient"] for n in received)
    assert recipients == ["Organization/trang-hospital", "Organization/trang-hospital"]
    texts = " | ".join(n.body["text"] for n in received)
    assert "Stroke referral from Sikao Hospital" in texts
    assert "Telestroke consult requested" in texts
    assert "HN-6501234" not in texts

    # The delivery results and the consult come back as events and complete the referral's
    # timeline. They travel on different topics, so they may arrive in any order.
    async def timeline_complete() -> list[str] | None:
        events = await _timeline_events(referral_api, referral_id)
        complete = events.count("notification-sent") == 2 and "teleconsult-requested" in events
        return events if complete else None

    events = await eventually(
        timeline_complete, what="both deliveries and the consult on the timeline"
    )
    assert events[0] == "referral-requested"
    first_step = (await referral_api.get(f"/referrals/{referral_id}")).json()["timeline"][0]
    # The clinical time the hospital gave, on the province's clock; recorded time is ours.
    asked = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Task")
    assert first_step["occurred_at"] == asked["authoredOn"]
    assert first_step["recorded_at"].endswith("+07:00")

    # Every service took part in the one trace started by the hospital's HTTP request.
    async def all_services_in_trace() -> dict[str, list[dict[str, Any]]] | None:
        by_service = {
            name: [s for s in services.spans(name) if s["context"]["trace_id"] == f"0x{trace_id}"]
            for name in ("referral", "telemedicine", "notifier")
        }
        return by_service if all(by_service.values()) else None

    by_service = await eventually(all_services_in_trace, what="spans of all three services")
    notifier_spans = {s["name"] for s in by_service["notifier"]}
    assert "notifier deliver webhook" in notifier_spans
    assert any(s["kind"] == "SpanKind.CONSUMER" for s in by_service["telemedicine"])


async def test_the_same_request_posted_twice_makes_one_referral(
    referral_api: httpx.AsyncClient, webhook: WebhookReceiver
) -> None:
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    first = await referral_api.post("/fhir/$process-message", json=bundle, headers=FHIR_JSON)
    second = await referral_api.post("/fhir/$process-message", json=bundle, headers=FHIR_JSON)
    assert first.status_code == second.status_code == 200
    await eventually(lambda: at_least(webhook.for_referral(referral_id), 1), what="the alert")

    async def settled() -> list[str] | None:
        events = await _timeline_events(referral_api, referral_id)
        return events if "notification-sent" in events else None

    events = await eventually(settled, what="the delivery on the timeline")
    assert events.count("referral-requested") == 1
    assert len(webhook.for_referral(referral_id)) == 1
