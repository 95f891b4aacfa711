"""Bad input: over HTTP a 4xx OperationOutcome; on Kafka a dead letter, and work goes on."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.messaging import headers
from shared.messaging.topics import HOSPITAL_INBOUND
from tests.e2e.harness import WebhookReceiver
from tests.support import TestStack, as_hospital, at_least, eventually, referral_bundle

pytestmark = pytest.mark.e2e

INVALID = Path(__file__).resolve().parents[1] / "fixtures" / "invalid"


@pytest.mark.parametrize(
    ("fixture", "status", "diagnostics"),
    [
        ("truncated.json", 400, "Body is not valid JSON"),
        ("not-fhir.json", 400, "Not a FHIR resource"),
        ("patient.json", 400, "Expected a Bundle of type 'message'"),
        ("collection-bundle.json", 400, "Bundle.type must be 'message'"),
        ("no-message-header.json", 400, "must be a MessageHeader"),
        ("unknown-event.json", 400, "Unknown event code"),
    ],
)
async def test_bad_http_input_gets_an_operation_outcome(
    referral_api: httpx.AsyncClient, fixture: str, status: int, diagnostics: str
) -> None:
    response = await referral_api.post(
        "/fhir/$process-message",
        content=(INVALID / fixture).read_bytes(),
        headers={"Content-Type": "application/fhir+json"},
    )
    assert response.status_code == status
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert diagnostics in outcome["issue"][0]["diagnostics"]


async def test_referral_to_an_unknown_hospital_is_refused_with_a_reason(
    referral_api: httpx.AsyncClient,
) -> None:
    bundle, _, _ = referral_bundle()
    text = json.dumps(bundle).replace("Organization/trang-hospital", "Organization/nowhere")
    response = await referral_api.post(
        "/fhir/$process-message", content=text, headers={"Content-Type": "application/fhir+json"}
    )
    assert response.status_code == 422
    assert "Unknown receiving organization 'nowhere'" in response.json()["issue"][0]["diagnostics"]


async def test_bad_kafka_messages_are_dead_lettered_and_the_next_one_is_processed(
    stack: TestStack, referral_api: httpx.AsyncClient, webhook: WebhookReceiver
) -> None:
    marker = str(uuid.uuid4())
    bad = [
        b"{this is not json",
        json.dumps({"resourceType": "Patient", "id": marker}).encode(),
        (INVALID / "no-message-header.json").read_bytes(),
    ]
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap_servers, enable_idempotence=True)
    await producer.start()
    try:
        for payload in bad:
            await producer.send_and_wait(
                HOSPITAL_INBOUND.name, payload, key=marker.encode(), headers=[("test", b"bad")]
            )
        # Same key, so same partition, after the bad ones: it is only handled if they were passed.
        await producer.send_and_wait(
            HOSPITAL_INBOUND.name, json.dumps(bundle).encode(), key=marker.encode()
        )
    finally:
        await producer.stop()

    await eventually(
        lambda: at_least(webhook.for_referral(referral_id)), what="the valid referral's alert"
    )
    reasons = await _dead_letter_reasons(stack, HOSPITAL_INBOUND.dead_letter, marker)
    assert len(reasons) == 3
    assert any("not valid JSON" in r for r in reasons)
    assert any("got a Patient" in r for r in reasons)
    assert any("MessageHeader" in r for r in reasons)


async def _dead_letter_reasons(stack: TestStack, topic: str, key: str) -> list[str]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=stack.bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    reasons: list[str] = []
    try:

        async def collect() -> list[str] | None:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    if record.key == key.encode():
                        found = dict(record.headers)
                        reasons.append(found[headers.DEAD_LETTER_REASON].decode())
            return reasons if len(reasons) >= 3 else None

        await eventually(collect, timeout=30, what="three dead letters")
    finally:
        await consumer.stop()
    return reasons


async def test_callers_must_authenticate_and_speak_for_themselves(
    referral_api: httpx.AsyncClient,
) -> None:
    bundle, referral_id, _ = referral_bundle()
    anonymous = await referral_api.post(
        "/fhir/$process-message",
        json=bundle,
        headers={"Content-Type": "application/fhir+json", "Authorization": ""},
    )
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    wrong_key = await referral_api.post(
        "/fhir/$process-message",
        json=bundle,
        headers={"Content-Type": "application/fhir+json", "Authorization": "Bearer guessed"},
    )
    assert wrong_key.status_code == 401
    # Trang's key cannot send a message in Sikao's name.
    impersonation = await referral_api.post(
        "/fhir/$process-message",
        json=bundle,
        headers={"Content-Type": "application/fhir+json", **as_hospital("trang-hospital")},
    )
    assert impersonation.status_code == 403
    assert (
        "MessageHeader.sender must be your organization"
        in (impersonation.json()["issue"][0]["diagnostics"])
    )
    assert (await referral_api.get(f"/referrals/{referral_id}")).status_code == 404
