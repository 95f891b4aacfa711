"""Each hospital's own topics: which topic belongs to which hospital (a message on a hospital's
topic in another's name: tests/unit/test_consumer_dead_letters.py)."""

from __future__ import annotations

import pytest

from shared.messaging.topics import HOSPITAL_INBOUND_TOPICS, hospital_inbound


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
