"""A message's entries are validated by their own classes, found once by their type, and handed
to the Bundle as models: given the JSON, fhir_core found each entry's class by importing its
dotted name at every validation (a failing import, then a second one, per entry). The same
validators run on the same JSON: a valid message is the same Bundle, and an invalid one is
refused for the same reasons, word for word, as when the Bundle was validated whole."""

from __future__ import annotations

import copy
import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shared.fhir import envelope
from shared.fhir.envelope import InvalidMessage, parse_message
from shared.fhir.models import Bundle
from tests.support import referral_bundle

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.json"))


@pytest.fixture
def imports(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each module name ``importlib.import_module`` is asked for, from now on."""
    asked: list[str] = []
    original = importlib.import_module

    def counting(name: str, package: str | None = None) -> Any:
        asked.append(name)
        return original(name, package)

    monkeypatch.setattr(importlib, "import_module", counting)
    return asked


def test_a_referral_is_validated_without_importing_its_entries_classes(
    imports: list[str],
) -> None:
    body = json.dumps(referral_bundle(teleconsult=True)[0]).encode()
    parse_message(body)  # the first in a process imports what it has not yet
    imports.clear()
    message = parse_message(body)
    assert imports == []  # was 16: two per entry (eight entries), at every message
    assert len(message.bundle.entry or []) == 8


def _as_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Bundle validated whole from its JSON, as every version before did."""
    monkeypatch.setattr(envelope, "_validated_bundle", Bundle.model_validate)


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.name for example in EXAMPLES])
def test_a_valid_message_is_the_same_bundle(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = example.read_bytes()
    typed = parse_message(body).bundle
    _as_whole(monkeypatch)
    whole = parse_message(body).bundle
    assert typed == whole
    assert typed.model_dump(mode="json") == whole.model_dump(mode="json")
    assert [type(e.resource) for e in typed.entry or []] == [
        type(e.resource) for e in whole.entry or []
    ]


def _set(index: int, name: str, value: object) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        document["entry"][index]["resource"][name] = value

    return change


def _replace_entry(index: int, entry: object) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        document["entry"][index] = entry

    return change


def _two_faults(document: dict[str, Any]) -> None:
    document["entry"][1]["resource"]["status"] = 5
    document["entry"][2]["resource"]["subject"] = "Patient/x"


@pytest.mark.parametrize(
    "change",
    [
        _set(1, "status", 5),
        _set(2, "subject", "Patient/x"),
        _set(3, "unknownField", 1),
        _set(1, "resourceType", "Nope"),
        _set(1, "resourceType", "Coding"),
        _set(3, "resourceType", "Task"),
        _replace_entry(1, {"fullUrl": "urn:uuid:x", "resource": {"id": "no-type"}}),
        _replace_entry(1, {"fullUrl": "urn:uuid:x"}),
        _replace_entry(1, "not an entry"),
        _two_faults,
    ],
)
def test_an_invalid_message_is_refused_for_the_same_reason(
    change: Callable[[dict[str, Any]], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    document = copy.deepcopy(referral_bundle(teleconsult=True)[0])
    change(document)
    body = json.dumps(document).encode()

    def outcome() -> str:
        try:
            parse_message(body)
        except InvalidMessage as refused:
            return f"{refused.issue_code}: {refused.reason}"
        return "accepted"

    typed = outcome()
    _as_whole(monkeypatch)
    assert typed == outcome()
