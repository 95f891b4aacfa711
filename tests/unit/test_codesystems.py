"""The project's CodeSystems: valid R4B, at their canonical URLs, generated from the vocabularies
the services use (every code of each enum, worded in English and Thai)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import pytest
from fhir.resources.R4B.codesystem import CodeSystem

from shared.fhir import codes
from shared.fhir.codesystems import CODE_SYSTEMS, ProjectCodeSystem
from shared.vocabulary.capabilities import CAPABILITY_TERMS, StrokeCapability
from shared.vocabulary.decline_reasons import DECLINE_REASON_TERMS, DeclineReason
from shared.vocabulary.milestones import MILESTONE_TERMS, MilestoneCode
from shared.vocabulary.notification_categories import (
    NOTIFICATION_CATEGORY_TERMS,
    NotificationCategory,
)
from shared.vocabulary.terms import Term

# Each published vocabulary: its CodeSystem id, its codes and their words.
VOCABULARIES: list[tuple[str, type[StrEnum], Mapping[Any, Term]]] = [
    ("event", codes.EventCode, codes.EVENT_TERMS),
    ("milestone", MilestoneCode, MILESTONE_TERMS),
    ("decline-reason", DeclineReason, DECLINE_REASON_TERMS),
    ("notification-category", NotificationCategory, NOTIFICATION_CATEGORY_TERMS),
    ("stroke-capability", StrokeCapability, CAPABILITY_TERMS),
]


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


@pytest.mark.parametrize(("system_id", "vocabulary", "terms"), VOCABULARIES, ids=lambda v: str(v))
def test_every_code_of_each_vocabulary_is_published_in_english_and_thai(
    system_id: str, vocabulary: type[StrEnum], terms: Mapping[Any, Term]
) -> None:
    published = {c["code"]: c for c in CODE_SYSTEMS[system_id].to_json()["concept"]}
    assert list(published) == [code.value for code in vocabulary]
    for code in vocabulary:
        assert terms[code].english.strip(), code
        assert terms[code].thai.strip(), code
        assert published[code.value]["display"] == terms[code].english
        assert published[code.value]["designation"] == [
            {"language": "th", "value": terms[code].thai}
        ]


def test_every_concept_carries_a_thai_designation() -> None:
    for code_system in CODE_SYSTEMS.values():
        for concept in code_system.to_json()["concept"]:
            designations = concept.get("designation")
            assert designations, f"{code_system.id}#{concept['code']}"
            assert all(d["language"] == "th" and d["value"] for d in designations)


def test_the_milestones_are_published_in_the_order_of_the_clock() -> None:
    assert concept_codes(CODE_SYSTEMS["milestone"].to_json()) == [
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
    ]


def test_decline_reasons_and_observation_codes() -> None:
    declined = set(concept_codes(CODE_SYSTEMS["decline-reason"].to_json()))
    assert "no-bed" in declined
    assert "other" in declined
    assert concept_codes(CODE_SYSTEMS["stroke-observation"].to_json()) == [
        codes.LAST_KNOWN_WELL,
        codes.LVO_SUSPECTED,
        codes.FAST_FACE,
        codes.FAST_ARM,
        codes.FAST_SPEECH,
        codes.ANTICOAGULANT,
        codes.CT_HEMORRHAGE,
    ]
    assert concept_codes(CODE_SYSTEMS["service-category"].to_json()) == [codes.TELECONSULT]
