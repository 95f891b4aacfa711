"""Topics are created as the settings say: partitions of the catalogue's topics, the replication
factor and min.insync.replicas of every topic (one broker in development, a cluster of three in
production), instead of a replication factor of 1 written into the code."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.admin import TopicLayout
from shared.messaging.topics import REFERRAL_EVENTS, Topic, hospital_inbound
from shared.settings import PlatformSettings

SIKAO_INBOUND = hospital_inbound("sikao-hospital")

# environment -> (topic, what is created: name, partitions, replication factor, topic configs)
CASES: list[tuple[dict[str, str], Topic, list[tuple[str, int, int, dict[str, str]]]]] = [
    (
        {},
        REFERRAL_EVENTS,
        [
            ("fasttrack.referral.events.v1", 3, 1, {}),
            ("fasttrack.referral.events.v1.dlq", 1, 1, {}),
        ],
    ),
    (
        {
            "FT_KAFKA_TOPIC_PARTITIONS": "12",
            "FT_KAFKA_REPLICATION_FACTOR": "3",
            "FT_KAFKA_MIN_INSYNC_REPLICAS": "2",
        },
        REFERRAL_EVENTS,
        [
            ("fasttrack.referral.events.v1", 12, 3, {"min.insync.replicas": "2"}),
            ("fasttrack.referral.events.v1.dlq", 1, 3, {"min.insync.replicas": "2"}),
        ],
    ),
    # A hospital's own topic keeps its single partition (its messages stay in order), but is
    # replicated like every other topic.
    (
        {"FT_KAFKA_TOPIC_PARTITIONS": "12", "FT_KAFKA_REPLICATION_FACTOR": "3"},
        SIKAO_INBOUND,
        [
            ("fasttrack.hospital.inbound.v1.sikao-hospital", 1, 3, {}),
            ("fasttrack.hospital.inbound.v1.sikao-hospital.dlq", 1, 3, {}),
        ],
    ),
]


@pytest.mark.parametrize(("environment", "topic", "expected"), CASES)
def test_topics_are_created_with_the_partitions_and_replication_the_settings_give(
    monkeypatch: pytest.MonkeyPatch,
    environment: dict[str, str],
    topic: Topic,
    expected: list[tuple[str, int, int, dict[str, str]]],
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    layout = TopicLayout.from_settings(PlatformSettings())
    created = [
        (new.name, new.num_partitions, new.replication_factor, new.topic_configs)
        for new in layout.new_topics(topic)
    ]
    assert created == expected


def test_a_min_insync_above_the_replication_factor_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # With min.insync.replicas 2 on one replica, every write with acks=all would fail.
    monkeypatch.setenv("FT_KAFKA_REPLICATION_FACTOR", "1")
    monkeypatch.setenv("FT_KAFKA_MIN_INSYNC_REPLICAS", "2")
    with pytest.raises(ValidationError, match="FT_KAFKA_MIN_INSYNC_REPLICAS"):
        PlatformSettings()
