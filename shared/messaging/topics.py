"""The topic catalogue: every topic the platform uses, versioned, with its dead-letter twin."""

from __future__ import annotations

from dataclasses import dataclass

DEAD_LETTER_SUFFIX = ".dlq"


@dataclass(frozen=True)
class Topic:
    name: str
    description: str
    partitions: int = 3
    # Consumed topics have a dead-letter twin for messages that can never be processed.
    has_dead_letter: bool = True

    @property
    def dead_letter(self) -> str:
        return f"{self.name}{DEAD_LETTER_SUFFIX}"


HOSPITAL_INBOUND = Topic(
    "fasttrack.hospital.inbound.v1",
    "Messages hospital systems send to the network (referral-requested, ...), keyed by Task id",
)
HOSPITAL_RESPONSES = Topic(
    "fasttrack.hospital.responses.v1",
    "Response messages to messages whose sender is not in the directory, keyed by Task id",
    has_dead_letter=False,
)
REFERRAL_EVENTS = Topic(
    "fasttrack.referral.events.v1",
    "Referral lifecycle messages (referral-requested, accepted, declined, ...), keyed by Task id",
)
TELEMEDICINE_EVENTS = Topic(
    "fasttrack.telemedicine.events.v1",
    "Teleconsult messages (teleconsult-requested, ...), keyed by the referral Task id",
)
NOTIFICATION_REQUESTS = Topic(
    "fasttrack.notification.requests.v1",
    "notification-requested: a CommunicationRequest for the notifier, keyed by referral id",
)
NOTIFICATION_OUTCOMES = Topic(
    "fasttrack.notification.outcomes.v1",
    "notification-sent / notification-failed: a Communication, keyed by referral id",
)

CATALOGUE: tuple[Topic, ...] = (
    HOSPITAL_INBOUND,
    HOSPITAL_RESPONSES,
    REFERRAL_EVENTS,
    TELEMEDICINE_EVENTS,
    NOTIFICATION_REQUESTS,
    NOTIFICATION_OUTCOMES,
)


def hospital_responses(organization_id: str) -> Topic:
    """A directory hospital's own response topic: Kafka ACLs let it read this one and no other
    hospital's (a shared topic would show every hospital the others' Tasks)."""
    return Topic(
        f"{HOSPITAL_RESPONSES.name}.{organization_id}",
        f"Response messages (ok / fatal-error) to {organization_id}'s messages, keyed by Task id",
        partitions=1,
        has_dead_letter=False,
    )


def all_topic_names() -> list[str]:
    names: list[str] = []
    for topic in CATALOGUE:
        names.append(topic.name)
        if topic.has_dead_letter:
            names.append(topic.dead_letter)
    return names
