"""The published conformance resources cover what the services use."""

from __future__ import annotations

from pathlib import Path

from services.notifier.domain.model import Channel
from services.referral.adapters.fhir_inbound import REFERRAL_REQUIREMENTS
from shared.fhir.codes import EventCode
from shared.fhir.conformance.catalogue import PUBLISHED_CODE_SYSTEMS, published
from shared.fhir.conformance.notification_channel import NOTIFICATION_CHANNEL
from shared.fhir.conformance.profiles import PROFILES, with_profile


def test_every_notification_channel_is_published_in_english_and_thai() -> None:
    concepts = {concept.code: concept for concept in NOTIFICATION_CHANNEL.concepts}
    assert list(concepts) == [channel.value for channel in Channel]
    assert all(concept.display and concept.thai for concept in concepts.values())
    assert "notification-channel" in PUBLISHED_CODE_SYSTEMS


def test_every_event_code_has_a_message_definition_and_every_code_system_a_value_set() -> None:
    catalogue = published()
    assert set(catalogue["MessageDefinition"]) == {event.value for event in EventCode}
    assert set(catalogue["ValueSet"]) == set(catalogue["CodeSystem"]) == set(PUBLISHED_CODE_SYSTEMS)
    assert set(catalogue["StructureDefinition"]) == {profile.id for profile in PROFILES}


def test_a_resource_declares_its_profile_once() -> None:
    task = {"resourceType": "Task", "id": "t", "status": "requested", "intent": "order"}
    declared = with_profile(with_profile(task))
    assert declared["meta"]["profile"] == [
        "https://fasttrack.example.org/fhir/StructureDefinition/fasttrack-task"
    ]
    assert with_profile({"resourceType": "Patient", "id": "p"}) == {
        "resourceType": "Patient",
        "id": "p",
    }


def test_the_readme_says_exactly_what_a_referral_must_contain() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert REFERRAL_REQUIREMENTS in readme
