"""What the services emit validates in an independent validator (HAPI FHIR's R4B instance
validator, against R4B and the project's profiles), with 0 errors: every message type on the
topics (captured from Kafka after the other end-to-end tests ran), every REST answer type. And a
refusal says the same thing over Kafka as over REST.

The module's name sorts last among the end-to-end tests on purpose: it reads back what they all
emitted, besides driving its own referral so it stands alone.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.messaging.topics import DEAD_LETTER_SUFFIX, HOSPITAL_INBOUND, HOSPITAL_INBOUND_TOPICS
from tests.e2e.harness import WebhookReceiver
from tests.e2e.test_hospital_lifecycle import HospitalSystem
from tests.fhir_validator import FhirValidator, Issue
from tests.support import TestStack, as_hospital, eventually, hospital_message, referral_bundle

pytestmark = pytest.mark.e2e

SPOKE, HUB = "sikao-hospital", "trang-hospital"
FHIR_JSON = {"Content-Type": "application/fhir+json"}
# Collection time, before any test ran: records older than this are of earlier runs on the same
# stack (its topics outlive a run) and are not read.
SESSION_STARTED_MS = int(time.time() * 1000)


def _emitted_by_the_services(topic: str) -> bool:
    """The project's topics (each hospital's response topic included), less what hospital
    systems produce, dead letters (bad input kept as it came) and scratch test topics."""
    return (
        topic.startswith("fasttrack.")
        and not topic.startswith("fasttrack.itest.")
        and topic != HOSPITAL_INBOUND.name
        and HOSPITAL_INBOUND_TOPICS.organization(topic) is None
        and not topic.endswith(DEAD_LETTER_SUFFIX)
    )


async def _everything_emitted(stack: TestStack) -> list[tuple[str, bytes]]:
    """Every record this session put on the services' topics."""
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.bootstrap_servers)
    await admin.start()
    try:
        topics = sorted(t for t in await admin.list_topics() if _emitted_by_the_services(t))
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    partitions = [
        TopicPartition(topic["topic"], partition["partition"])
        for topic in described
        for partition in topic["partitions"]
    ]
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: list[tuple[str, bytes]] = []
        while [p for p in partitions if await consumer.position(p) < ends[p]]:
            for part, records in (await consumer.getmany(timeout_ms=1000)).items():
                found.extend(
                    (part.topic, r.value)
                    for r in records
                    if r.value is not None and r.timestamp >= SESSION_STARTED_MS
                )
        return found
    finally:
        await consumer.stop()


# What _drive_a_referral_through_its_steps makes the services emit, at least.
FLOW_EVENTS = {
    "referral-requested",
    "referral-received",
    "referral-accepted",
    "transfer-departed",
    "teleconsult-requested",
    "notification-requested",
    "notification-sent",
}


def _message_type(topic: str, bundle: dict[str, Any]) -> str:
    header = bundle["entry"][0]["resource"]
    response = header.get("response", {}).get("code", "")
    kinds = sorted({e["resource"]["resourceType"] for e in bundle["entry"][1:]})
    return f"{topic} {header['eventCoding']['code']} {response} [{','.join(kinds)}]".strip()


def _report(found: dict[str, list[Issue]]) -> str:
    return "\n".join(f"{kind}:\n  " + "\n  ".join(map(str, e)) for kind, e in found.items() if e)


async def _drive_a_referral_through_its_steps(
    stack: TestStack, referral_api: httpx.AsyncClient, webhook: WebhookReceiver
) -> str:
    """A referral with a teleconsult, received (over Kafka), accepted and departed (over REST)."""
    bundle, referral_id, _ = referral_bundle()
    answer = await referral_api.post("/fhir/$process-message", json=bundle, headers=FHIR_JSON)
    assert answer.status_code == 200, answer.text
    received, message_id = hospital_message(
        "referral-received", sender=HUB, receiver=SPOKE, referral_id=referral_id, status="received"
    )
    async with HospitalSystem(stack) as his:
        await his.send(received, referral_id)
        answer_code = (await his.answer_to(message_id))["entry"][0]["resource"]["response"]
        assert answer_code["code"] == "ok"
    for event, sender, status in (
        ("referral-accepted", HUB, "accepted"),
        ("transfer-departed", SPOKE, "in-progress"),
    ):
        message, _ = hospital_message(
            event,
            sender=sender,
            receiver=HUB if sender == SPOKE else SPOKE,
            referral_id=referral_id,
            status=status,
        )
        answer = await referral_api.post(
            "/fhir/$process-message", json=message, headers={**FHIR_JSON, **as_hospital(sender)}
        )
        assert answer.status_code == 200, answer.text

    async def delivered() -> bool:
        return any(call.body.get("referral") == referral_id for call in webhook.received)

    await eventually(delivered, what="the hub's notification at the webhook")
    return referral_id


async def test_every_message_type_on_the_topics_validates_with_no_error(
    stack: TestStack,
    referral_api: httpx.AsyncClient,
    webhook: WebhookReceiver,
    fhir_validator: FhirValidator,
) -> None:
    await _drive_a_referral_through_its_steps(stack, referral_api, webhook)
    by_type: dict[str, dict[str, Any]] = {}

    async def all_of_the_flow() -> bool:
        for topic, value in await _everything_emitted(stack):
            bundle = json.loads(value)
            by_type.setdefault(_message_type(topic, bundle), bundle)
        events = {kind.split(" ")[1] for kind in by_type}
        return events >= FLOW_EVENTS

    await eventually(all_of_the_flow, what=f"the flow's events {sorted(FLOW_EVENTS)}")
    found = {kind: fhir_validator.errors(bundle) for kind, bundle in sorted(by_type.items())}
    assert not any(found.values()), _report(found)


async def test_every_rest_answer_type_validates_with_no_error(
    stack: TestStack,
    referral_api: httpx.AsyncClient,
    webhook: WebhookReceiver,
    fhir_validator: FhirValidator,
) -> None:
    referral_id = await _drive_a_referral_through_its_steps(stack, referral_api, webhook)
    bundle, _, _ = referral_bundle()
    answers: dict[str, httpx.Response] = {
        "$process-message ok": await referral_api.post(
            "/fhir/$process-message", json=bundle, headers=FHIR_JSON
        ),
        "$process-message refused (422)": await referral_api.post(
            "/fhir/$process-message",
            content=json.dumps(bundle).replace("trang-hospital", "nowhere"),
            headers=FHIR_JSON,
        ),
        "metadata": await referral_api.get("/fhir/metadata"),
        "Task read": await referral_api.get(f"/fhir/Task/{referral_id}"),
        "Task search": await referral_api.get("/fhir/Task", params={"_count": 2}),
        "Task search, partial date": await referral_api.get(
            "/fhir/Task", params={"_lastUpdated": "ge2026-11", "_total": "none"}
        ),
        "ServiceRequest read": await referral_api.get(f"/fhir/ServiceRequest/sr-{referral_id}"),
        "ServiceRequest search": await referral_api.get("/fhir/ServiceRequest"),
        "CodeSystem read": await referral_api.get("/fhir/CodeSystem/event"),
        "CodeSystem search": await referral_api.get("/fhir/CodeSystem"),
        "unknown Task (404)": await referral_api.get("/fhir/Task/no-such-referral"),
        "bad search (400)": await referral_api.get("/fhir/Task", params={"colour": "red"}),
        "another hospital's Task (403)": await referral_api.get(
            f"/fhir/Task/{referral_id}", headers=as_hospital("palian-hospital")
        ),
        "no API key (401)": await referral_api.get(
            f"/fhir/Task/{referral_id}", headers={"Authorization": ""}
        ),
        "StructureDefinition read": await referral_api.get(
            "/fhir/StructureDefinition/fasttrack-task"
        ),
        "StructureDefinition search": await referral_api.get("/fhir/StructureDefinition"),
        "MessageDefinition read": await referral_api.get(
            "/fhir/MessageDefinition/referral-requested"
        ),
        "MessageDefinition search": await referral_api.get("/fhir/MessageDefinition"),
        "ValueSet read": await referral_api.get("/fhir/ValueSet/event"),
        "ValueSet search": await referral_api.get("/fhir/ValueSet"),
        "notification-channel CodeSystem": await referral_api.get(
            "/fhir/CodeSystem/notification-channel"
        ),
        "notification-failure CodeSystem": await referral_api.get(
            "/fhir/CodeSystem/notification-failure"
        ),
        "$validate, valid": await referral_api.post(
            "/fhir/Bundle/$validate", json=referral_bundle()[0], headers=FHIR_JSON
        ),
        "$validate, refused": await referral_api.post(
            "/fhir/Bundle/$validate",
            content=json.dumps(bundle).replace("trang-hospital", "nowhere"),
            headers=FHIR_JSON,
        ),
    }
    statuses = {kind: answer.status_code for kind, answer in answers.items()}
    assert [kind for kind, status in statuses.items() if status >= 400] == [
        "$process-message refused (422)",
        "unknown Task (404)",
        "bad search (400)",
        "another hospital's Task (403)",
        "no API key (401)",
    ], statuses
    partial_date = answers["Task search, partial date"].json()
    assert "total" not in partial_date
    assert partial_date["entry"]
    found = {kind: fhir_validator.errors(answer.json()) for kind, answer in answers.items()}
    assert not any(found.values()), _report(found)


async def test_a_refusal_carries_the_same_operation_outcome_over_kafka_as_over_rest(
    stack: TestStack, referral_api: httpx.AsyncClient
) -> None:
    bundle, referral_id, message_id = referral_bundle()
    _without_lkw_as_prealert(bundle)
    over_rest = await referral_api.post("/fhir/$process-message", json=bundle, headers=FHIR_JSON)
    assert over_rest.status_code == 422
    async with HospitalSystem(stack) as his:
        await his.send(bundle, referral_id)
        answer = await his.answer_to(message_id)
    assert answer["entry"][0]["resource"]["response"]["code"] == "fatal-error"
    over_kafka = next(
        e["resource"]
        for e in answer["entry"]
        if e["resource"]["resourceType"] == "OperationOutcome"
    )
    assert over_kafka["issue"] == over_rest.json()["issue"]
    assert over_kafka["issue"][0]["expression"] == ["Condition.onset"]


def _without_lkw_as_prealert(bundle: dict[str, Any]) -> dict[str, Any]:
    """A pre-alert without last known well: its purpose is to start the clock, so refused."""
    bundle["entry"][0]["resource"]["eventCoding"]["code"] = "stroke-prealert"
    bundle["entry"] = [
        e for e in bundle["entry"] if not e["resource"].get("id", "").startswith("lkw-")
    ]
    return bundle


async def test_validate_answers_what_the_real_send_would_and_keeps_nothing(
    referral_api: httpx.AsyncClient,
) -> None:
    refused, _, _ = referral_bundle()
    _without_lkw_as_prealert(refused)
    validated = await referral_api.post("/fhir/Bundle/$validate", json=refused, headers=FHIR_JSON)
    sent = await referral_api.post("/fhir/$process-message", json=refused, headers=FHIR_JSON)
    assert (validated.status_code, sent.status_code) == (200, 422)
    assert validated.json() == sent.json()

    good, referral_id, _ = referral_bundle()
    validated = await referral_api.post("/fhir/Bundle/$validate", json=good, headers=FHIR_JSON)
    assert validated.json()["issue"][0]["severity"] == "information"
    assert (await referral_api.get(f"/fhir/Task/{referral_id}")).status_code == 404
    sent = await referral_api.post("/fhir/$process-message", json=good, headers=FHIR_JSON)
    assert sent.status_code == 200
