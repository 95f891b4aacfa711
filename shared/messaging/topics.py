"""The topic catalogue: every topic the platform uses, versioned, with its dead-letter twin.

Hospital systems have topics of their own (``HOSPITAL_INBOUND_TOPICS``,
``HOSPITAL_RESPONSE_TOPICS``): Kafka's ACLs work per topic, so a topic per hospital is what lets
the broker itself decide who may write a hospital's messages and who may read its answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
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

    @property
    def address(self) -> str:
        """Its name (as ``PerHospitalTopics.address`` is theirs)."""
        return self.name


HOSPITAL_INBOUND = Topic(
    "fasttrack.hospital.inbound.v1",
    "Hospital messages from the network's own producers (no hospital may write it), keyed by "
    "Task id",
)
HOSPITAL_RESPONSES = Topic(
    "fasttrack.hospital.responses.v1",
    "Response messages to messages whose sender is not in the directory, keyed by Task id",
    has_dead_letter=False,
)
REFERRAL_EVENTS = Topic(
    "fasttrack.referral.events.v1",
    "Referral lifecycle messages (referral-requested, accepted, declined, ...), keyed by Task "
    "id; and directory-changed (the network's hospital directory, whole, each time it is "
    "loaded), keyed 'directory'",
)
TELEMEDICINE_EVENTS = Topic(
    "fasttrack.telemedicine.events.v1",
    "Teleconsult messages, keyed by the referral Task id: teleconsult-requested (a referral's "
    "consult carries its first paging step: the Task paging since lastModified), "
    "teleconsult-updated (each step: paging, escalated, accepted, declined, in-video, "
    "cancelled, failed, as the Task's businessStatus with its time as lastModified) and "
    "teleconsult-recommended (the signed recommendation); and, keyed by the episode id, "
    "monitoring-flag-changed (a home-isolation episode's Flag: green, yellow or red, and why)",
)
NOTIFICATION_REQUESTS = Topic(
    "fasttrack.notification.requests.v1",
    "notification-requested: a CommunicationRequest for the notifier; notification-acknowledged: "
    "a hospital answered its alerts about a referral on the clinicians' board (a Communication); "
    "keyed by referral id",
)
NOTIFICATION_OUTCOMES = Topic(
    "fasttrack.notification.outcomes.v1",
    "notification-sent / -delivered / -failed / -acknowledged / -escalated: a Communication, "
    "keyed by referral id; a notification-failed's statusReason is coded delivery-failed (one "
    "recipient on one channel) or nobody-reached (the request's final failure, told once)",
)

CATALOGUE: tuple[Topic, ...] = (
    HOSPITAL_INBOUND,
    HOSPITAL_RESPONSES,
    REFERRAL_EVENTS,
    TELEMEDICINE_EVENTS,
    NOTIFICATION_REQUESTS,
    NOTIFICATION_OUTCOMES,
)


# A FHIR id (what the directory uses for an Organization): also a valid topic name part and
# Kafka user name.
HOSPITAL_ID = re.compile(r"[A-Za-z0-9.\-]{1,64}")


@dataclass(frozen=True)
class PerHospitalTopics:
    """One topic per hospital, ``<prefix>.<organization id>``: the hospital's Kafka user is the
    only one (besides the network's services) with access to its own."""

    prefix: str
    description: str
    has_dead_letter: bool

    # Where the hospital's id goes in the address, as AsyncAPI writes a channel parameter.
    PARAMETER = "organizationId"

    def of(self, organization_id: str) -> Topic:
        if not HOSPITAL_ID.fullmatch(organization_id) or organization_id.endswith(
            DEAD_LETTER_SUFFIX
        ):
            raise ValueError(
                f"{organization_id[:80]!r} cannot name a hospital's topic: a FHIR id "
                f"([A-Za-z0-9.-], at most 64) not ending in {DEAD_LETTER_SUFFIX!r}"
            )
        # One partition: one hospital's messages are few, and many hospitals' topics many.
        return Topic(
            f"{self.prefix}.{organization_id}",
            self.description,
            partitions=1,
            has_dead_letter=self.has_dead_letter,
        )

    @property
    def address(self) -> str:
        """The address with its parameter: ``fasttrack.hospital.inbound.v1.{organizationId}``."""
        return f"{self.prefix}.{{{self.PARAMETER}}}"

    @property
    def pattern(self) -> str:
        """A regular expression for every hospital's topic and none of their dead-letter twins
        (a FHIR id may hold dots, so the twin's suffix is excluded by name)."""
        return f"^{self._unanchored(group='?P<organization>')}$"

    def _unanchored(self, *, group: str = "?:") -> str:
        return (
            rf"{re.escape(self.prefix)}\.({group}{HOSPITAL_ID.pattern})"
            rf"(?<!{re.escape(DEAD_LETTER_SUFFIX)})"
        )

    def organization(self, topic_name: str) -> str | None:
        """The hospital whose topic ``topic_name`` is; None if it is not one of these."""
        match = re.match(self.pattern, topic_name)
        return match.group("organization") if match else None


HOSPITAL_INBOUND_TOPICS = PerHospitalTopics(
    HOSPITAL_INBOUND.name,
    "Messages a hospital system sends to the network (referral-requested, ...), keyed by Task "
    "id. Only that hospital's Kafka user may write its topic, and its messages must name it as "
    "MessageHeader.sender",
    has_dead_letter=True,
)
HOSPITAL_RESPONSE_TOPICS = PerHospitalTopics(
    HOSPITAL_RESPONSES.name,
    "Response messages (ok / fatal-error) to a hospital's messages, keyed by Task id; only that "
    "hospital's Kafka user may read its topic",
    has_dead_letter=False,
)


def hospital_inbound(organization_id: str) -> Topic:
    """A hospital's own inbound topic: the only one its Kafka user may write."""
    return HOSPITAL_INBOUND_TOPICS.of(organization_id)


def hospital_responses(organization_id: str) -> Topic:
    """A directory hospital's own response topic: Kafka ACLs let it read this one and no other
    hospital's (a shared topic would show every hospital the others' Tasks)."""
    return HOSPITAL_RESPONSE_TOPICS.of(organization_id)


def hospital_topics(organization_id: str) -> tuple[Topic, ...]:
    """Every topic a hospital has of its own (created with it, before it is granted access)."""
    return (hospital_inbound(organization_id), hospital_responses(organization_id))


def all_topic_names() -> list[str]:
    names: list[str] = []
    for topic in CATALOGUE:
        names.append(topic.name)
        if topic.has_dead_letter:
            names.append(topic.dead_letter)
    return names


def pattern_of(topics: Iterable[Topic | PerHospitalTopics]) -> str:
    """One regular expression for all of ``topics`` and nothing else (no dead-letter twin): a
    Kafka consumer subscribes to a list of names or to one pattern, never to both."""
    alternatives = [
        topic._unanchored() if isinstance(topic, PerHospitalTopics) else re.escape(topic.name)
        for topic in topics
    ]
    return f"^(?:{'|'.join(alternatives)})$"
