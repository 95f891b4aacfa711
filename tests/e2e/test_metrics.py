"""Each operator's metric moves when its cause happens, on the real stack (the services as
processes, Kafka, PostgreSQL), read from the services' own ``GET /metrics``."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from services.referral.config import SERVICE_NAME as REFERRAL
from shared.messaging.broker import consumer_group
from shared.messaging.topics import HOSPITAL_INBOUND
from tests.e2e.harness import SERVICE_PORTS, ServiceProcesses, WebhookReceiver
from tests.metrics_scrape import Sample, scrape, total
from tests.support import TestStack, as_operator, at_least, eventually, referral_bundle

pytestmark = pytest.mark.e2e

FHIR_JSON = {"Content-Type": "application/fhir+json"}
SPOKE = "sikao-hospital"
TELEMEDICINE_GROUP = consumer_group("telemedicine")


def url(service: str) -> str:
    return f"http://127.0.0.1:{SERVICE_PORTS[service]}"


async def samples_of(service: str) -> list[Sample]:
    return (await scrape(url(service)))[1]


async def refer(referral_api: httpx.AsyncClient, *, teleconsult: bool = False) -> str:
    bundle, referral_id, _ = referral_bundle(teleconsult=teleconsult)
    sent = await referral_api.post("/fhir/$process-message", json=bundle, headers=FHIR_JSON)
    assert sent.status_code == 200, sent.text
    return referral_id


async def test_every_service_reports_its_handlers_outbox_and_the_hospitals_last_message(
    referral_api: httpx.AsyncClient, webhook: WebhookReceiver
) -> None:
    before = time.time()
    referral_id = await refer(referral_api)
    await eventually(lambda: at_least(webhook.for_referral(referral_id)), what="the page")

    async def referral_figures() -> list[Sample] | None:
        samples = await samples_of(REFERRAL)
        last = total(samples, "fasttrack_hospital_last_message_seconds", hospital=SPOKE)
        paged = total(samples, "fasttrack_referral_first_page_latency_seconds", quantile="0.5")
        return samples if last is not None and last >= before - 1 and paged is not None else None

    samples = await eventually(referral_figures, what="the referral service's gauges")
    # Per handler: rate and errors (status code) and duration, per route template.
    assert total(
        samples,
        "http_server_request_duration_seconds_count",
        http_route="/fhir/$process-message",
        http_response_status_code="200",
    )
    # Reported (its count is tested in tests/unit/test_deadline_watcher.py): on the suite's
    # shared stack, earlier tests leave referrals whose re-routing keeps failing on purpose.
    assert total(samples, "fasttrack_referral_rerouting_failing") is not None
    assert (total(samples, "fasttrack_hospital_messages_7d", hospital=SPOKE) or 0) >= 1
    for service in SERVICE_PORTS:
        figures = await samples_of(service)
        assert total(figures, "fasttrack_outbox_backlog", service=service) is not None, service
        assert total(figures, "fasttrack_outbox_oldest_unpublished_age_seconds") is not None
        # Kafka consumers per topic: rate, errors (error_type) and duration.
        assert total(figures, "messaging_process_duration_seconds_count"), service


async def test_a_stopped_consumer_grows_its_groups_lag_and_catches_up_when_it_returns(
    referral_api: httpx.AsyncClient, services: ServiceProcesses
) -> None:
    async def telemedicine_lag() -> float | None:
        return total(
            await samples_of(REFERRAL), "fasttrack_kafka_consumer_lag", group=TELEMEDICINE_GROUP
        )

    async def reported() -> bool:
        return await telemedicine_lag() is not None

    await eventually(reported, what="the telemedicine group's lag")
    services.kill("telemedicine")
    try:
        start = await telemedicine_lag() or 0
        for _ in range(3):
            await refer(referral_api, teleconsult=True)

        async def grown() -> float | None:
            lag = await telemedicine_lag()
            return lag if lag is not None and lag >= start + 3 else None

        await eventually(grown, what="the lag of the stopped consumer's group growing")
    finally:
        await services.start("telemedicine")

    async def caught_up() -> bool:
        return await telemedicine_lag() == 0

    await eventually(caught_up, timeout=120, what="the lag back to 0 once it consumes again")


async def test_a_poison_record_fills_its_dead_letter_topic(
    stack: TestStack, referral_api: httpx.AsyncClient
) -> None:
    topic = HOSPITAL_INBOUND.dead_letter

    async def depth() -> float:
        return total(await samples_of(REFERRAL), "fasttrack_kafka_dead_letters", topic=topic) or 0

    await refer(referral_api)  # the gauges have had a round
    before = await depth()
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(HOSPITAL_INBOUND.name, b"{not json", key=b"poison")
    finally:
        await producer.stop()

    async def filled() -> bool:
        return await depth() >= before + 1

    await eventually(filled, what="the dead-letter topic's depth growing")


async def test_a_broken_webhook_fills_the_dead_letters_and_a_replay_drains_them(
    referral_api: httpx.AsyncClient, webhook: WebhookReceiver
) -> None:
    async def dead_letters() -> float:
        samples = await samples_of("notifier")
        found = total(samples, "fasttrack_notifier_dead_letters", channel="webhook")
        assert found is not None  # every channel has its series, 0 included
        return found

    async def measured() -> bool:
        samples = await samples_of("notifier")
        return total(samples, "fasttrack_notifier_dead_letters", channel="webhook") is not None

    await eventually(measured, what="the notifier's first readings")
    before = await dead_letters()
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    webhook.refuse.add(referral_id)
    try:
        sent = await referral_api.post("/fhir/$process-message", json=bundle, headers=FHIR_JSON)
        assert sent.status_code == 200

        async def filled() -> float | None:
            now = await dead_letters()
            return now if now >= before + 1 else None

        full = await eventually(filled, what="the webhook's dead letter counted")
    finally:
        webhook.refuse.discard(referral_id)
    async with httpx.AsyncClient(
        base_url=url("notifier"), headers=as_operator(), timeout=30
    ) as notifier:
        letters: list[dict[str, Any]] = (await notifier.get("/dead-letters")).json()
        letter = next(d for d in letters if d["referral_id"] == referral_id)
        assert (await notifier.post(f"/deliveries/{letter['id']}/replay")).status_code == 200
    await eventually(lambda: at_least(webhook.for_referral(referral_id)), what="the replay sent")

    async def drained() -> bool:
        return await dead_letters() <= full - 1

    await eventually(drained, what="the dead letter gone from the gauge")
    latency = total(
        await samples_of("notifier"),
        "fasttrack_notifier_delivery_latency_seconds",
        channel="webhook",
        quantile="0.5",
    )
    assert latency is not None
    assert latency >= 0
