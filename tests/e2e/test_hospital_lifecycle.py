"""A whole referral, pre-alert to loop closed, driven only by hospital systems' messages.

On Kafka every message is answered on the sender's own response topic,
fasttrack.hospital.responses.v1.<organization id> (ok or fatal-error with an OperationOutcome);
over FHIR REST the same rules answer with the response message or a 4xx.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.messaging.topics import HOSPITAL_INBOUND, hospital_responses
from tests.e2e.harness import WebhookReceiver
from tests.support import (
    ROOT,
    TestStack,
    as_hospital,
    eventually,
    hospital_message,
    referral_bundle,
)

pytestmark = pytest.mark.e2e

SPOKE, HUB = "sikao-hospital", "trang-hospital"
FHIR_JSON = {"Content-Type": "application/fhir+json"}
AS_HUB = {**FHIR_JSON, **as_hospital(HUB)}


class HospitalSystem:
    """Produces to the inbound topic and reads the responses addressed back."""

    def __init__(self, stack: TestStack) -> None:
        self.stack = stack
        self.responses: dict[str, dict[str, Any]] = {}
        self.producer = AIOKafkaProducer(
            bootstrap_servers=stack.bootstrap_servers, enable_idempotence=True
        )
        self.consumer = AIOKafkaConsumer(
            hospital_responses(SPOKE).name,
            hospital_responses(HUB).name,
            bootstrap_servers=stack.bootstrap_servers,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )

    async def __aenter__(self) -> HospitalSystem:
        await self.producer.start()
        await self.consumer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.producer.stop()
        await self.consumer.stop()

    async def send(self, bundle: dict[str, Any], key: str) -> None:
        await self.producer.send_and_wait(
            HOSPITAL_INBOUND.name, json.dumps(bundle).encode(), key=key.encode()
        )

    async def answer_to(self, message_id: str) -> dict[str, Any]:
        async def received() -> dict[str, Any] | None:
            for records in (await self.consumer.getmany(timeout_ms=300)).values():
                for record in records:
                    bundle = json.loads(record.value)
                    header = bundle["entry"][0]["resource"]
                    self.responses[header["response"]["identifier"]] = bundle
            return self.responses.get(message_id)

        return await eventually(received, what=f"the response to {message_id}")


def _code(response: dict[str, Any]) -> str:
    code: str = response["entry"][0]["resource"]["response"]["code"]
    return code


def _diagnostics(response: dict[str, Any]) -> str:
    outcome = next(
        e["resource"]
        for e in response["entry"]
        if e["resource"]["resourceType"] == "OperationOutcome"
    )
    return f"{outcome['issue'][0]['code']}: {outcome['issue'][0]['diagnostics']}"


async def test_prealert_to_loop_closed_over_kafka_with_every_message_answered(
    stack: TestStack, referral_api: httpx.AsyncClient, webhook: WebhookReceiver
) -> None:
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    prealert = json.loads(json.dumps(bundle).replace('"referral-requested"', '"stroke-prealert"'))
    prealert["entry"][0]["resource"]["id"] = prealert_id = "pre-" + referral_id
    prealert["entry"][0]["fullUrl"] = f"urn:uuid:{prealert_id}"

    def step(
        event: str, sender: str, status: str, reason: str | None = None
    ) -> tuple[dict[str, Any], str]:
        receiver = HUB if sender == SPOKE else SPOKE
        return hospital_message(
            event,
            sender=sender,
            receiver=receiver,
            referral_id=referral_id,
            status=status,
            status_reason=reason,
        )

    async with HospitalSystem(stack) as his:
        await his.send(prealert, referral_id)
        assert _code(await his.answer_to(prealert_id)) == "ok"
        await his.send(bundle, referral_id)
        assert _code(await his.answer_to(bundle["entry"][0]["resource"]["id"])) == "ok"

        completed = hospital_message(
            "referral-completed",
            sender=HUB,
            receiver=SPOKE,
            referral_id=referral_id,
            status="completed",
            outcome="thrombectomy TICI 3, discharged mRS 1",
        )
        expected = [
            (step("referral-received", HUB, "received"), "ok", None),
            (step("transfer-departed", HUB, "in-progress"), "fatal-error", "forbidden"),
            (step("referral-accepted", HUB, "accepted"), "ok", None),
            (step("referral-completed", HUB, "completed"), "fatal-error", "business-rule"),
            (step("transfer-departed", SPOKE, "in-progress"), "ok", None),
            (step("patient-arrived", HUB, "in-progress"), "ok", None),
            (completed, "ok", None),
        ]
        for (message, message_id), code, issue in expected:
            await his.send(message, referral_id)
            answer = await his.answer_to(message_id)
            assert _code(answer) == code, _diagnostics(answer) if code == "ok" else answer
            if issue:
                assert _diagnostics(answer).startswith(issue)
            else:
                task = answer["entry"][1]["resource"]
                assert task["resourceType"] == "Task"
                assert task["id"] == referral_id

    detail = (await referral_api.get(f"/referrals/{referral_id}")).json()
    assert detail["status"] == "completed"
    closed = next(s for s in detail["timeline"] if s["event"] == "referral-completed")
    assert closed["detail"]["outcome"] == "thrombectomy TICI 3, discharged mRS 1"
    assert [s["event"] for s in detail["timeline"] if s["event"] != "notification-sent"] == [
        "stroke-prealert",
        "referral-requested",
        "referral-received",
        "referral-accepted",
        "transfer-departed",
        "patient-arrived",
        "referral-completed",
    ]
    # The referring hospital was told its referral was accepted.
    await eventually(
        lambda: _notified(webhook, referral_id, "Your stroke referral was accepted"),
        what="the acceptance notice",
    )


async def _notified(webhook: WebhookReceiver, referral_id: str, text: str) -> bool:
    return any(text in n.body["text"] for n in webhook.for_referral(referral_id))


async def test_lifecycle_over_fhir_rest_with_refusals_as_operation_outcomes(
    referral_api: httpx.AsyncClient,
) -> None:
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    assert (
        await referral_api.post("/fhir/$process-message", json=bundle, headers=FHIR_JSON)
    ).status_code == 200

    declined_without_reason, _ = hospital_message(
        "referral-declined", sender=HUB, receiver=SPOKE, referral_id=referral_id, status="rejected"
    )
    response = await referral_api.post(
        "/fhir/$process-message", json=declined_without_reason, headers=AS_HUB
    )
    assert response.status_code == 409
    assert "statusReason is required" in response.json()["issue"][0]["diagnostics"]

    cancelled_by_the_hub, _ = hospital_message(
        "referral-cancelled",
        sender=HUB,
        receiver=SPOKE,
        referral_id=referral_id,
        status="cancelled",
        status_reason="duplicate",
    )
    response = await referral_api.post(
        "/fhir/$process-message", json=cancelled_by_the_hub, headers=AS_HUB
    )
    assert response.status_code == 403
    assert response.json()["issue"][0]["code"] == "forbidden"

    declined, declined_id = hospital_message(
        "referral-declined",
        sender=HUB,
        receiver=SPOKE,
        referral_id=referral_id,
        status="rejected",
        status_reason="CT scanner down",
    )
    first = await referral_api.post("/fhir/$process-message", json=declined, headers=AS_HUB)
    again = await referral_api.post("/fhir/$process-message", json=declined, headers=AS_HUB)
    assert first.status_code == again.status_code == 200
    header = again.json()["entry"][0]["resource"]
    assert header["response"] == {"identifier": declined_id, "code": "ok"}
    detail = (await referral_api.get(f"/referrals/{referral_id}")).json()
    assert detail["status"] == "rejected"
    assert [s["event"] for s in detail["timeline"]].count("referral-declined") == 1

    unknown, _ = hospital_message(
        "referral-accepted",
        sender=HUB,
        receiver=SPOKE,
        referral_id="no-such-referral",
        status="accepted",
    )
    response = await referral_api.post("/fhir/$process-message", json=unknown, headers=AS_HUB)
    assert response.status_code == 404


async def test_hospitals_report_their_own_availability_over_rest_and_kafka(
    stack: TestStack, referral_api: httpx.AsyncClient
) -> None:
    url = f"/directory/{HUB}/availability"
    down = await referral_api.put(url, json={"unavailable": ["ct-24h"]}, headers=as_hospital(HUB))
    assert down.status_code == 200
    assert down.json() == {"id": HUB, "unavailable": ["ct-24h"]}
    not_yours = await referral_api.put(url, json={"unavailable": []})  # as Sikao
    assert not_yours.status_code == 403
    unknown = await referral_api.put(
        url, json={"unavailable": ["helipad"]}, headers=as_hospital(HUB)
    )
    assert unknown.status_code == 422
    assert "Unknown capabilities ['helipad']" in unknown.json()["issue"][0]["diagnostics"]

    from shared.fhir.codes import EventCode
    from shared.fhir.envelope import build_message
    from shared.fhir.models import Organization

    back_up = build_message(
        event=EventCode.AVAILABILITY_CHANGED,
        sender=f"Organization/{HUB}",
        destinations=[],
        focus=[Organization.model_validate({"resourceType": "Organization", "id": HUB})],
        source_endpoint="urn:test:trang",
    )
    async with HospitalSystem(stack) as his:
        await his.send(json.loads(back_up.to_json()), HUB)
        assert _code(await his.answer_to(back_up.message_id)) == "ok"
    hub = next(h for h in (await referral_api.get("/directory")).json() if h["id"] == HUB)
    assert hub["unavailable"] == []


async def test_the_send_command_of_the_readme_gets_the_answer(
    stack: TestStack, tmp_path: Path
) -> None:
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    message = tmp_path / "referral.json"
    message.write_text(json.dumps(bundle), encoding="utf-8")
    python = stack.env()["FT_PYTHON"]
    result = await asyncio.to_thread(
        subprocess.run,
        [python, "-m", "shared.admin", "send", str(message)],
        cwd=ROOT,
        env=stack.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["entry"][0]["resource"]["response"]["code"] == "ok"
    assert answer["entry"][1]["resource"]["id"] == referral_id
