"""A message id belongs to its sender: another hospital reusing it gets nothing of the first
message, and a sender reusing its own id for new content is told so, over REST and Kafka.
Writes need credentials; a referral's delivery log is for its hospitals only."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.messaging.topics import HOSPITAL_INBOUND, hospital_responses
from tests.e2e.harness import NOTIFIER_URL, WebhookReceiver, post_referral_to
from tests.support import TestStack, as_hospital, at_least, eventually, referral_bundle

pytestmark = pytest.mark.e2e

SPOKE, HUB, OTHER_SPOKE, STRANGER = (
    "sikao-hospital",
    "trang-hospital",
    "kantang-hospital",
    "palian-hospital",
)
FHIR_JSON = {"Content-Type": "application/fhir+json"}


def _as_sender(bundle: dict[str, Any], hospital: str) -> dict[str, Any]:
    """The example referral sent by ``hospital`` instead of Sikao."""
    text = json.dumps(bundle).replace(f"Organization/{SPOKE}", f"Organization/{hospital}")
    changed: dict[str, Any] = json.loads(text)
    return changed


def _with_message_id(bundle: dict[str, Any], message_id: str) -> dict[str, Any]:
    bundle["entry"][0]["resource"]["id"] = message_id
    bundle["entry"][0]["fullUrl"] = f"urn:uuid:{message_id}"
    return bundle


def _focus_task_ids(response: httpx.Response) -> list[str]:
    return [
        e["resource"]["id"]
        for e in response.json().get("entry", [])
        if e["resource"]["resourceType"] == "Task"
    ]


async def test_another_hospitals_message_id_never_returns_that_hospitals_task(
    referral_api: httpx.AsyncClient,
) -> None:
    first, first_referral, message_id = referral_bundle(teleconsult=False)
    answer = await referral_api.post("/fhir/$process-message", json=first, headers=FHIR_JSON)
    assert answer.status_code == 200, answer.text
    # Kantang sends its own referral under Sikao's (public) message id.
    theirs, their_referral, _ = referral_bundle(teleconsult=False)
    theirs = _with_message_id(_as_sender(theirs, OTHER_SPOKE), message_id)
    response = await referral_api.post(
        "/fhir/$process-message", json=theirs, headers={**FHIR_JSON, **as_hospital(OTHER_SPOKE)}
    )
    assert response.status_code == 200, response.text
    assert first_referral not in response.text
    assert _focus_task_ids(response) == [their_referral]
    own = await referral_api.get(f"/fhir/Task/{their_referral}", headers=as_hospital(OTHER_SPOKE))
    assert own.status_code == 200


async def test_a_reused_message_id_with_new_content_is_refused_and_nothing_is_dropped_silently(
    referral_api: httpx.AsyncClient,
) -> None:
    first, first_referral, message_id = referral_bundle(teleconsult=False)
    assert (
        await referral_api.post("/fhir/$process-message", json=first, headers=FHIR_JSON)
    ).status_code == 200
    second, second_referral, _ = referral_bundle(teleconsult=False)
    second = _with_message_id(second, message_id)
    response = await referral_api.post("/fhir/$process-message", json=second, headers=FHIR_JSON)
    assert response.status_code == 409, response.text
    issue = response.json()["issue"][0]
    assert issue["code"] == "duplicate"
    assert issue["expression"] == ["MessageHeader.id"]
    assert "already used" in issue["diagnostics"]
    assert first_referral not in response.text
    assert (await referral_api.get(f"/fhir/Task/{second_referral}")).status_code == 404
    # The same message again (a retry, even in a rebuilt envelope) is still answered as before.
    first["id"] = str(uuid.uuid4())
    again = await referral_api.post("/fhir/$process-message", json=first, headers=FHIR_JSON)
    assert again.status_code == 200
    assert _focus_task_ids(again) == [first_referral]


async def test_a_reused_message_id_over_kafka_is_answered_with_a_refusal(
    stack: TestStack, referral_api: httpx.AsyncClient
) -> None:
    first, first_referral, message_id = referral_bundle(teleconsult=False)
    second, second_referral, _ = referral_bundle(teleconsult=False)
    second = _with_message_id(second, message_id)
    consumer = AIOKafkaConsumer(
        hospital_responses(SPOKE).name,
        bootstrap_servers=stack.bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap_servers)
    await consumer.start()
    await producer.start()
    answers: list[dict[str, Any]] = []
    try:
        for bundle, key in ((first, first_referral), (second, second_referral)):
            await producer.send_and_wait(
                HOSPITAL_INBOUND.name, json.dumps(bundle).encode(), key=key.encode()
            )

        async def both_answered() -> list[dict[str, Any]] | None:
            for records in (await consumer.getmany(timeout_ms=300)).values():
                for record in records:
                    bundle = json.loads(record.value)
                    header = bundle["entry"][0]["resource"]
                    if header["response"]["identifier"] == message_id:
                        answers.append(bundle)
            return await at_least(answers, 2)

        await eventually(both_answered, what="answers to both messages")
    finally:
        await producer.stop()
        await consumer.stop()
    codes = sorted(a["entry"][0]["resource"]["response"]["code"] for a in answers)
    assert codes == ["fatal-error", "ok"]
    refusal = next(a for a in answers if a["entry"][0]["resource"]["response"]["code"] != "ok")
    outcome = next(
        e["resource"]
        for e in refusal["entry"]
        if e["resource"]["resourceType"] == "OperationOutcome"
    )
    assert "already used" in outcome["issue"][0]["diagnostics"]
    assert (await referral_api.get(f"/fhir/Task/{second_referral}")).status_code == 404


async def test_a_referrals_delivery_log_is_for_its_hospitals_only(
    referral_api: httpx.AsyncClient, webhook: WebhookReceiver
) -> None:
    referral_id = await post_referral_to(referral_api, HUB)
    await eventually(lambda: at_least(webhook.for_referral(referral_id)), what="the alert")
    async with httpx.AsyncClient(base_url=NOTIFIER_URL) as notifier:
        hub = await notifier.get(
            "/deliveries", params={"referral": referral_id}, headers=as_hospital(HUB)
        )
        stranger = await notifier.get(
            "/deliveries", params={"referral": referral_id}, headers=as_hospital(STRANGER)
        )
        anonymous = await notifier.get("/deliveries", params={"referral": referral_id})
    assert hub.status_code == 200
    assert hub.json()
    assert stranger.status_code == 403
    assert stranger.json()["resourceType"] == "OperationOutcome"
    assert anonymous.status_code == 401
