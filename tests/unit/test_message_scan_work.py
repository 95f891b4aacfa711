"""The scans every message entering the referral service pays before its models see it: the
JSON depth scan, the strictness walk and the inbox digest's look for fractions, counted in calls.

Each ran once per element of a message, most of them for scalars: the depth scan stacked a tuple
for every value through a generator (a Python call per value), the strictness walk wrote every
element's FHIRPath and called a function for each primitive, and the digest's look stacked every
value. Now objects and arrays are kept for the next step and scalars are judged where they are
met; an element's FHIRPath is written only when it is refused (what each refusal says is
tests/unit/test_strict_input.py's, and the exact paths are checked here).
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from shared.fhir.strict import StrictnessViolation, check_message_json
from shared.limits import nesting_depth
from shared.messaging.inbox import _has_float, received_content_digest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "referral-requested.json"


def _referral() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(EXAMPLE.read_bytes())
    return document


def _calls(work: Callable[[], object]) -> tuple[int, int]:
    """(Python calls, calls of built-in functions) ``work`` makes, itself not counted."""
    work()  # caches filled (the models' element kinds)
    python = builtin = 0

    def count(_frame: FrameType, event: str, _arg: object) -> None:
        nonlocal python, builtin
        python += event == "call"
        builtin += event == "c_call"

    sys.setprofile(count)
    try:
        work()
    finally:
        sys.setprofile(None)
    return python - 1, builtin


def _objects(value: object) -> int:
    if isinstance(value, dict):
        return 1 + sum(_objects(child) for child in value.values())
    if isinstance(value, list):
        return sum(_objects(child) for child in value)
    return 0


def test_the_depth_scan_makes_no_python_call_per_value() -> None:
    document = _referral()
    python, _ = _calls(lambda: nesting_depth(document))
    # Was 201 for the example referral: a generator step per value it stacked.
    assert python == 1  # nesting_depth itself
    assert nesting_depth(document) == 8
    assert nesting_depth({"a": [[{"b": []}]]}) == 5
    assert (nesting_depth("x"), nesting_depth({}), nesting_depth([[], [[]]])) == (0, 1, 3)


def test_the_strictness_walk_makes_a_python_call_per_object_not_per_element() -> None:
    document = _referral()
    objects = _objects(document)
    python, _ = _calls(lambda: check_message_json(document))
    # Was 332 for the example referral (47 objects): a call for every element, and its
    # FHIRPath written. Now 67: one per object, and the resources' classes looked up.
    assert python <= objects * 3 // 2, (python, objects)


def test_the_inbox_digest_looks_for_fractions_with_fewer_built_in_calls() -> None:
    document = _referral()
    body = EXAMPLE.read_bytes()
    _, builtin = _calls(lambda: received_content_digest(body, document))
    # Was 554 for the example referral: every value stacked, then taken off and looked at.
    assert builtin <= 400, builtin
    assert not _has_float(document)
    assert _has_float({"entry": [{"resource": {"valueQuantity": {"value": 7.5}}}]})
    assert _has_float(1.5)
    assert not _has_float([[], {"a": [1, True, "1.5"]}])


def _nested(document: dict[str, Any], *steps: str | int) -> Any:
    value: Any = document
    for step in steps:
        value = value[step]
    return value


@pytest.mark.parametrize(
    ("steps", "element", "value", "expression"),
    [
        ((), "timestamp", "2569-11-23T08:00:00+07:00", "Bundle.timestamp"),
        (
            ("entry", 1, "resource"),
            "intent",
            7,
            "Bundle.entry[1].resource.intent",
        ),
        (
            ("entry", 3, "resource", "identifier", 0),
            "value",
            "HN\x00",
            "Bundle.entry[3].resource.identifier[0].value",
        ),
        (
            ("entry", 5, "resource"),
            "modifierExtension",
            [{"url": "urn:x", "valueBoolean": True}],
            "Bundle.entry[5].resource.modifierExtension",
        ),
    ],
    ids=["bundle-date", "task-code", "identifier-value", "modifier-extension"],
)
def test_a_refusal_names_the_whole_path_of_the_element(
    steps: tuple[str | int, ...], element: str, value: object, expression: str
) -> None:
    document = copy.deepcopy(_referral())
    _nested(document, *steps)[element] = value
    with pytest.raises(StrictnessViolation) as refused:
        check_message_json(document)
    assert refused.value.expression == expression
    assert refused.value.reason.startswith(expression)
