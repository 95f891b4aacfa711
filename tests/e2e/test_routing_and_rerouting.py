"""Routing advice at intake, and automatic re-routing when declined or not accepted in time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.harness import WebhookReceiver
from tests.support import as_hospital, eventually, hospital_message, referral_bundle

pytestmark = pytest.mark.e2e

FHIR_JSON = {"Content-Type": "application/fhir+json"}
SPOKE, HUB, CENTRE = "sikao-hospital", "trang-hospital", "songklanagarind-hospital"


def _task(bundle: dict[str, Any]) -> dict[str, Any]:
    task: dict[str, Any] = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Task"
    )
    return task


async def _detail(api: httpx.AsyncClient, referral_id: str, as_org: str = SPOKE) -> dict[str, Any]:
    response = await api.get(f"/referrals/{referral_id}", headers=as_hospital(as_org))
    assert response.status_code == 200, response.text
    detail: dict[str, Any] = response.json()
    return detail


async def test_a_referral_without_destination_is_routed_with_its_reasons(
    referral_api: httpx.AsyncClient,
) -> None:
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    del _task(bundle)["owner"]
    response = await referral_api.post("/fhir/$process-message", json=bundle, headers=FHIR_JSON)
    assert response.status_code == 200, response.text
    detail = await _detail(referral_api, referral_id)
    # LKW 75 min before the request; LVO suspected; Sikao has no CT: the hub is 35 min away,
    # the thrombectomy centre far more, so thrombolysis first at the hub, then ship.
    assert detail["owner"] == HUB
    assert detail["routing"]["care_model"] == "drip-and-ship"
    assert any(
        "closest thrombolysis-capable hospital: trang-hospital" in r
        for r in detail["routing"]["reasons"]
    )
    assert detail["routing"]["alternatives"][0] == CENTRE


async def test_a_declined_referral_is_rerouted_and_both_sides_are_told(
    referral_api: httpx.AsyncClient, webhook: WebhookReceiver
) -> None:
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    assert (
        await referral_api.post("/fhir/$process-message", json=bundle, headers=FHIR_JSON)
    ).status_code == 200
    declined, _ = hospital_message(
        "referral-declined",
        sender=HUB,
        receiver=SPOKE,
        referral_id=referral_id,
        status="rejected",
        status_reason="stroke unit full",
    )
    response = await referral_api.post(
        "/fhir/$process-message", json=declined, headers={**FHIR_JSON, **as_hospital(HUB)}
    )
    assert response.status_code == 200, response.text

    old = await _detail(referral_api, referral_id)
    assert old["status"] == "rejected"
    new_id = old["replaced_by"]
    assert new_id == f"{referral_id}.r1"
    new = await _detail(referral_api, new_id)
    assert (new["owner"], new["replaces"], new["status"]) == (CENTRE, referral_id, "requested")
    assert "referral-redirected" in [s["event"] for s in old["timeline"]]
    # The new hospital gets the stroke alert; the referring hospital learns where it went.
    await eventually(
        lambda: _received(webhook, new_id, CENTRE, "Stroke referral"), what="the centre's alert"
    )
    await eventually(
        lambda: _received(webhook, referral_id, SPOKE, f"re-routed to {CENTRE}"),
        what="the re-routing notice to the referring hospital",
    )


async def test_a_referral_not_accepted_by_its_deadline_is_rerouted(
    referral_api: httpx.AsyncClient, webhook: WebhookReceiver
) -> None:
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    deadline = datetime.now(UTC) + timedelta(seconds=1)
    _task(bundle)["restriction"] = {"period": {"end": deadline.isoformat()}}
    assert (
        await referral_api.post("/fhir/$process-message", json=bundle, headers=FHIR_JSON)
    ).status_code == 200

    async def rerouted() -> dict[str, Any] | None:
        detail = await _detail(referral_api, referral_id)
        return detail if detail["replaced_by"] else None

    old = await eventually(rerouted, timeout=30, what="the deadline re-route")
    assert old["status"] == "cancelled"
    cancelled = next(s for s in old["timeline"] if s["event"] == "referral-cancelled")
    assert cancelled["detail"]["reason"] == "not accepted by its deadline"
    new = await _detail(referral_api, old["replaced_by"])
    assert new["owner"] == CENTRE
    await eventually(
        lambda: _received(webhook, referral_id, SPOKE, "not accepted by its deadline"),
        what="the referring hospital's notice",
    )


async def _received(webhook: WebhookReceiver, referral_id: str, org: str, text: str) -> bool:
    return any(
        n.body["recipient"] == f"Organization/{org}" and text in n.body["text"]
        for n in webhook.for_referral(referral_id)
    )


async def test_the_receiving_hospital_redirects_to_a_named_hospital(
    referral_api: httpx.AsyncClient,
) -> None:
    from shared.fhir.codes import EventCode
    from shared.fhir.envelope import build_message
    from shared.fhir.models import Task

    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    assert (
        await referral_api.post("/fhir/$process-message", json=bundle, headers=FHIR_JSON)
    ).status_code == 200
    old = Task.model_validate(
        {
            "resourceType": "Task",
            "id": referral_id,
            "status": "rejected",
            "statusReason": {"text": "no neurologist on call tonight"},
            "intent": "order",
        }
    )
    proposed = Task.model_validate(
        {
            "resourceType": "Task",
            "id": f"proposal-{referral_id}",
            "status": "requested",
            "intent": "order",
            "owner": {"reference": f"Organization/{CENTRE}"},
        }
    )
    message = build_message(
        event=EventCode.REFERRAL_REDIRECTED,
        sender=f"Organization/{HUB}",
        destinations=[f"Organization/{SPOKE}"],
        focus=[old, proposed],
        source_endpoint="urn:test:trang",
    )
    response = await referral_api.post(
        "/fhir/$process-message",
        content=message.to_json(),
        headers={**FHIR_JSON, **as_hospital(HUB)},
    )
    assert response.status_code == 200, response.text
    old_detail = await _detail(referral_api, referral_id)
    assert old_detail["status"] == "rejected"
    new_detail = await _detail(referral_api, old_detail["replaced_by"])
    assert (new_detail["owner"], new_detail["replaces"]) == (CENTRE, referral_id)
