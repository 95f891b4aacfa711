"""The project's CodeSystems: valid R4B, at their canonical URLs, covering the codes in use."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.codesystem import CodeSystem

from services.referral.domain.lifecycle import EVENT_MILESTONES
from shared.fhir import codes
from shared.fhir.codesystems import CODE_SYSTEMS, DECLINE_REASONS, MILESTONES, ProjectCodeSystem


def concept_codes(code_system: dict[str, object]) -> list[str]:
    concepts = code_system["concept"]
    assert isinstance(concepts, list)
    return [concept["code"] for concept in concepts]


def test_the_seven_code_systems_are_published() -> None:
    assert set(CODE_SYSTEMS) == {
        "event",
        "milestone",
        "decline-reason",
        "stroke-observation",
        "service-category",
        "notification-category",
        "stroke-capability",
    }


@pytest.mark.parametrize("code_system", CODE_SYSTEMS.values(), ids=lambda c: c.id)
def test_each_code_system_is_valid_r4b_at_its_canonical_url(
    code_system: ProjectCodeSystem,
) -> None:
    data = code_system.to_json()
    parsed = CodeSystem.model_validate(data)
    assert parsed.id == code_system.id
    assert data["url"] == f"{codes.PROJECT_CANONICAL}/CodeSystem/{code_system.id}"
    assert data["version"] == codes.CODESYSTEM_VERSION
    assert data["status"] == "active"
    assert data["content"] == "complete"
    assert data["caseSensitive"] is True
    assert data["description"]
    found = concept_codes(data)
    assert found, "a CodeSystem without concepts"
    assert len(found) == len(set(found)) == data["count"]
    for concept in data["concept"]:
        assert concept["display"]


def test_urls_are_the_constants_the_messages_use() -> None:
    assert CODE_SYSTEMS["event"].url == codes.EVENT_SYSTEM
    assert CODE_SYSTEMS["stroke-observation"].url == codes.STROKE_OBSERVATION_SYSTEM
    assert CODE_SYSTEMS["service-category"].url == codes.SERVICE_CATEGORY_SYSTEM
    assert CODE_SYSTEMS["notification-category"].url == codes.NOTIFICATION_CATEGORY_SYSTEM
    assert CODE_SYSTEMS["stroke-capability"].url == codes.STROKE_CAPABILITY_SYSTEM


def test_event_code_system_covers_every_event_code_with_its_display() -> None:
    data = CODE_SYSTEMS["event"].to_json()
    displays = {concept["code"]: concept["display"] for concept in data["concept"]}
    assert set(displays) == {event.value for event in codes.EventCode}
    for event in codes.EventCode:
        assert displays[event.value] == codes.EVENT_DISPLAY[event]


def test_concepts_carry_a_thai_designation() -> None:
    for code_system in CODE_SYSTEMS.values():
        for concept in code_system.to_json()["concept"]:
            # New event codes may arrive before their translation; every other code has one.
            designations = concept.get("designation", [] if code_system.id == "event" else None)
            assert designations is not None, f"{code_system.id}#{concept['code']}"
            assert all(d["language"] == "th" and d["value"] for d in designations)


def test_the_events_of_the_referral_lifecycle_have_thai_names() -> None:
    data = CODE_SYSTEMS["event"].to_json()
    named = {c["code"] for c in data["concept"] if c.get("designation")}
    assert {
        "stroke-prealert",
        "referral-requested",
        "referral-accepted",
        "referral-declined",
        "referral-completed",
        "transfer-departed",
        "patient-arrived",
    } <= named


def test_milestones_are_those_of_the_domain_and_those_the_service_records() -> None:
    assert MILESTONES == (
        "lkw",
        "door-in-first",
        "physician-seen",
        "ct-started",
        "referral-requested",
        "referral-accepted",
        "needle",
        "door-out-first",
        "door-in-receiving",
        "groin-puncture",
        "loop-closed",
    )
    assert set(EVENT_MILESTONES.values()) <= set(MILESTONES)


def test_decline_reasons_and_observation_codes() -> None:
    assert "no-bed" in DECLINE_REASONS
    assert "other" in DECLINE_REASONS
    assert concept_codes(CODE_SYSTEMS["stroke-observation"].to_json()) == [
        codes.LAST_KNOWN_WELL,
        codes.LVO_SUSPECTED,
    ]
    assert concept_codes(CODE_SYSTEMS["stroke-capability"].to_json()) == list(
        codes.STROKE_CAPABILITIES
    )
    assert concept_codes(CODE_SYSTEMS["service-category"].to_json()) == [codes.TELECONSULT]


def test_published_milestones_are_the_ones_the_metrics_compute() -> None:
    from services.referral.domain.clock import MilestoneCode
    from shared.fhir.codesystems import MILESTONES

    assert set(MILESTONES) == {code.value for code in MilestoneCode}


def test_published_capabilities_are_the_ones_routing_knows() -> None:
    from services.referral.domain.routing import Capability
    from shared.fhir.codes import STROKE_CAPABILITIES

    assert set(STROKE_CAPABILITIES) == {c.value for c in Capability}
