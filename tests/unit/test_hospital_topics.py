"""Each hospital's own topics: which topic belongs to which hospital, and what a message on a
hospital's inbound topic in another hospital's name becomes (before any database work)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from shared.fhir.codes import EventCode
from shared.messaging import headers
from shared.messaging.consumer import FhirMessageConsumer
from shared.messaging.topics import HOSPITAL_INBOUND_TOPICS, hospital_inbound

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "referral-requested.json"


@pytest.mark.parametrize(
    ("topic", "hospital"),
    [
        ("fasttrack.hospital.inbound.v1.sikao-hospital", "sikao-hospital"),
        ("fasttrack.hospital.inbound.v1.th.moph.10682", "th.moph.10682"),  # ids may hold dots
        ("fasttrack.hospital.inbound.v1", None),  # the shared topic: the network's producers
        ("fasttrack.hospital.inbound.v1.dlq", None),  # its dead-letter twin
        ("fasttrack.hospital.inbound.v1.sikao-hospital.dlq", None),  # a hospital's twin
        ("fasttrack.hospital.responses.v1.sikao-hospital", None),
        ("fasttrack.hospital.inbound.v1.sikao/hospital", None),  # not a FHIR id
        ("xfasttrack.hospital.inbound.v1.sikao-hospital", None),
    ],
)
def test_a_topic_names_the_hospital_whose_own_inbound_topic_it_is(
    topic: str, hospital: str | None
) -> None:
    assert HOSPITAL_INBOUND_TOPICS.organization(topic) == hospital


@pytest.mark.parametrize("organization", ["", "a" * 65, "sikao hospital", "x.dlq"])
def test_no_topic_for_an_id_that_could_be_misread(organization: str) -> None:
    with pytest.raises(ValueError, match="cannot name a hospital's topic"):
        hospital_inbound(organization)


class _NoDatabase:
    def acquire(self) -> Any:
        raise AssertionError("a message in another's name must be refused before the inbox")


async def test_a_message_in_another_hospitals_name_is_dead_lettered_with_the_reason() -> None:
    broker = KafkaBroker()
    dead_letters: list[dict[str, str]] = []

    async def never_called(*_: Any) -> None:
        raise AssertionError("a message in another's name must never be applied")

    FhirMessageConsumer(
        broker=broker,
        pool=_NoDatabase(),  # type: ignore[arg-type]
        topic=HOSPITAL_INBOUND_TOPICS,
        service_name="unit",
        handlers={EventCode.REFERRAL_REQUESTED: never_called},
    ).subscribe()
    hub_topic = hospital_inbound("trang-hospital")

    @broker.subscriber(hub_topic.dead_letter)
    async def collect(message: KafkaMessage) -> None:
        dead_letters.append(dict(message.headers))

    # The example is Sikao's referral; the hub's topic carries it.
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(EXAMPLE.read_bytes(), hub_topic.name, key=b"k-1")

    assert len(dead_letters) == 1
    reason = dead_letters[0][headers.DEAD_LETTER_REASON]
    assert "'Organization/sikao-hospital' is not Organization/trang-hospital" in reason
    assert "the only hospital that may write fasttrack.hospital.inbound.v1.trang-hospital" in reason
