"""Internal hops read what the network built without validating the whole Bundle again.

A message is validated where it enters (a hospital's HTTP call or Kafka topic); the records the
network's own outbox relay publishes were built by typed builders the test suite checks
(FT_CHECK_BUILT_MESSAGES). Before, every consumer validated every relayed Bundle whole, also
records of events it does not handle: the largest share of telemedicine's CPU. Now a relayed
record's envelope is checked, and only the entries a handler reads become models.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.servicerequest import ServiceRequest

from shared.fhir import message as message_module
from shared.fhir.codes import EventCode
from shared.fhir.envelope import InvalidMessage, parse_message, read_relayed_message
from shared.fhir.models import FHIR_VERSION, Bundle, Task
from shared.messaging import headers
from shared.messaging.consumer import FhirMessageConsumer
from shared.messaging.service_consumer import read_alone
from shared.messaging.topics import HOSPITAL_INBOUND_TOPICS, REFERRAL_EVENTS
from tests.kafka_records import Publications, count_validations, kafka_record

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "referral-requested.json"
RELAY_DICT = {headers.PRODUCER: "referral", headers.FHIR_VERSION: FHIR_VERSION}
RELAY_HEADERS = [(headers.PRODUCER, b"referral"), (headers.FHIR_VERSION, FHIR_VERSION.encode())]


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every model made: "Bundle" for a whole Bundle, else the entry's resource type."""
    seen = count_validations(monkeypatch, Bundle)
    original_lookup = get_fhir_model_class

    def counting_lookup(name: str) -> Any:
        found = original_lookup(name)
        return _Counted(found, seen)

    monkeypatch.setattr(message_module, "get_fhir_model_class", counting_lookup)
    return seen


class _Counted:
    """A model class whose validations are noted; anything else goes to the class."""

    def __init__(self, model: Any, seen: list[str]) -> None:
        self._model = model
        self._seen = seen

    def model_validate(self, data: Any) -> Any:
        self._seen.append(self._model.get_resource_type())
        return self._model.model_validate(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)


def _example() -> bytes:
    return EXAMPLE.read_bytes()


def test_a_relayed_message_is_read_without_validating_its_bundle(
    validations: list[str],
) -> None:
    message = read_relayed_message(_example())
    # What the consumer reads for every record: the envelope, from the JSON.
    assert message.event is EventCode.REFERRAL_REQUESTED
    assert message.sender == "Organization/sikao-hospital"
    assert message.focus
    assert validations == []
    # A handler reading the referral's Task makes the Task's model only: the header's fullUrl,
    # against which the focus reference resolves, is read from the JSON (its model was made
    # for that on every focus read before: 2 models, now 1).
    assert message.focus_resource(Task) is not None
    assert validations == ["Task"]
    assert message.focus_resource(Task) is not None
    assert validations.count("Task") == 1


def test_reading_a_relayed_message_finds_what_parsing_it_finds() -> None:
    parsed = parse_message(_example())
    relayed = read_relayed_message(_example())

    def dumped(resource: Any) -> Any:
        return resource.model_dump(mode="json", exclude_none=True) if resource else None

    task = relayed.focus_resource(Task)
    assert dumped(task) == dumped(parsed.focus_resource(Task))
    assert task is not None
    assert task.for_fhir is not None
    patient = relayed.resolve(task.for_fhir.reference, Patient, within=task)
    assert patient is not None
    assert dumped(patient) == dumped(parsed.resolve(task.for_fhir.reference, Patient))
    for model in (Observation, ServiceRequest, Patient):
        assert [dumped(r) for r in relayed.resources(model)] == [
            dumped(r) for r in parsed.resources(model)
        ]
    assert relayed.full_url_of(task) == parsed.full_url_of(parsed.focus_resource(Task))  # type: ignore[arg-type]
    # The same entry is the same object each time it is asked for.
    assert relayed.focus_resource(Task) is task


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "Body is not valid JSON"),
        (b'{"resourceType": "Patient"}', "Not a message Bundle the network built"),
        (b'{"resourceType": "Bundle", "type": "message", "entry": []}', "Not a message Bundle"),
        (
            json.dumps(
                {
                    "resourceType": "Bundle",
                    "type": "message",
                    "entry": [{"resource": {"resourceType": "MessageHeader", "id": "m-1"}}],
                }
            ).encode(),
            "no MessageHeader with an id, a known event code and a sender",
        ),
    ],
)
def test_a_relayed_record_that_is_no_network_message_is_refused_with_a_reason(
    payload: bytes, reason: str
) -> None:
    with pytest.raises(InvalidMessage, match=reason):
        read_relayed_message(payload)


class _NoDatabase:
    def acquire(self) -> Any:
        raise AssertionError("no database work is expected here")


def _consumer(topic: Any, publications: Publications) -> FhirMessageConsumer:
    async def never_called(*_: Any) -> None:
        raise AssertionError("the handler must not run")

    return FhirMessageConsumer(
        broker=publications,  # type: ignore[arg-type]
        pool=_NoDatabase(),  # type: ignore[arg-type]
        topic=topic,
        service_name="unit",
        handlers={EventCode.TELECONSULT_REQUESTED: never_called},
    )


def _invalid_fhir_referral() -> bytes:
    """A message Bundle whose Task breaks FHIR R4B (a dateTime that is none)."""
    document = json.loads(_example())
    for entry in document["entry"]:
        if entry["resource"]["resourceType"] == "Task":
            entry["resource"]["authoredOn"] = "yesterday"
    return json.dumps(document).encode()


async def test_a_relayed_record_of_an_event_the_service_ignores_costs_no_validation(
    validations: list[str],
) -> None:
    publications = Publications()
    consumer = _consumer(REFERRAL_EVENTS, publications)
    await consumer.handle(kafka_record(REFERRAL_EVENTS.name, _example(), headers=RELAY_HEADERS))
    assert validations == []
    assert publications.sent == []


async def test_a_hospitals_record_claiming_the_relays_headers_is_still_validated() -> None:
    publications = Publications()
    topic = HOSPITAL_INBOUND_TOPICS.of("sikao-hospital").name
    consumer = _consumer(HOSPITAL_INBOUND_TOPICS, publications)
    await consumer.handle(kafka_record(topic, _invalid_fhir_referral(), headers=RELAY_HEADERS))
    assert len(publications.sent) == 1
    dead_letter_topic, _, dead_headers = publications.sent[0]
    assert dead_letter_topic.endswith(".dlq")
    assert "does not conform to FHIR R4B" in dead_headers[headers.DEAD_LETTER_REASON]


async def test_a_relayed_record_built_for_another_fhir_version_is_validated_whole() -> None:
    publications = Publications()
    consumer = _consumer(REFERRAL_EVENTS, publications)
    other_version = [(headers.PRODUCER, b"referral"), (headers.FHIR_VERSION, b"5.0.0")]
    await consumer.handle(
        kafka_record(REFERRAL_EVENTS.name, _invalid_fhir_referral(), headers=other_version)
    )
    assert len(publications.sent) == 1
    assert "does not conform to FHIR R4B" in publications.sent[0][2][headers.DEAD_LETTER_REASON]


async def test_a_record_reaches_the_consumer_without_a_hand_off_to_a_worker_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """FastDepends resolves a handler's ``Context`` parameter (the Kafka message) on a worker
    thread, for every record; the consumer takes the record as its decoded body instead."""
    hand_offs: list[object] = []
    original = anyio.to_thread.run_sync

    async def counting(func: Any, *args: Any, **kwargs: Any) -> Any:
        hand_offs.append(func)
        return await original(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting)
    broker = KafkaBroker()
    consumer = _consumer(REFERRAL_EVENTS, Publications())
    consumer.broker = broker
    handled: list[tuple[str, bytes]] = []

    async def noting(record: Any) -> None:
        handled.append((record.topic, record.value))

    monkeypatch.setattr(consumer, "handle", noting)
    read_alone(consumer)
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(
            _example(), REFERRAL_EVENTS.name, key=b"referral-1", headers=dict(RELAY_DICT)
        )
    assert handled == [(REFERRAL_EVENTS.name, _example())]
    assert hand_offs == []
