"""Each service reads all its topics with one Kafka consumer: every consumer fetches while idle
(an empty fetch per fetch wait) and heartbeats to its group, which the Kafka broker pays for
per consumer (the referral service had four, telemedicine four, the notifier one). Counted on
the services as they are built (their lifespan, with Kafka and the database away)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI

from services.notifier.bootstrap import create_app as notifier_app
from services.referral.bootstrap import create_app as referral_app
from services.telemedicine.bootstrap import create_app as telemedicine_app
from shared.messaging.topics import (
    HOSPITAL_INBOUND,
    HOSPITAL_INBOUND_TOPICS,
    NOTIFICATION_OUTCOMES,
    NOTIFICATION_REQUESTS,
    REFERRAL_EVENTS,
    TELEMEDICINE_EVENTS,
    all_topic_names,
)

# What each service reads (its handlers per topic are its own; tests/e2e prove them).
READS: dict[str, tuple[Callable[[], FastAPI], set[str]]] = {
    "referral": (
        referral_app,
        {HOSPITAL_INBOUND.name, TELEMEDICINE_EVENTS.name, NOTIFICATION_OUTCOMES.name},
    ),
    "telemedicine": (
        telemedicine_app,
        {HOSPITAL_INBOUND.name, REFERRAL_EVENTS.name, NOTIFICATION_OUTCOMES.name},
    ),
    "notifier": (notifier_app, {NOTIFICATION_REQUESTS.name}),
}
HOSPITAL_TOPIC = HOSPITAL_INBOUND_TOPICS.of("sikao-hospital").name


def _reads(subscriber: Any, topic: str) -> bool:
    pattern = subscriber.pattern
    if pattern is not None:
        return re.match(pattern.broker_address, topic) is not None
    return topic in subscriber.topic_names_for_subscribe


@pytest.mark.parametrize("service", sorted(READS))
async def test_a_service_reads_every_topic_of_its_with_one_kafka_consumer(service: str) -> None:
    create_app, topics = READS[service]
    app = create_app()
    async with app.router.lifespan_context(app):
        await asyncio.sleep(0)
        subscribers = app.state.runtime.broker.subscribers
        assert len(subscribers) == 1, [subscriber.title for subscriber in subscribers]
        (subscriber,) = subscribers
        assert subscriber.group_id == f"fasttrack-{service}"
        for topic in topics:
            assert _reads(subscriber, topic), topic
        if service != "notifier":
            assert _reads(subscriber, HOSPITAL_TOPIC)
            assert not _reads(subscriber, f"{HOSPITAL_TOPIC}.dlq")
        read = {topic for topic in all_topic_names() if _reads(subscriber, topic)}
        assert read == topics
