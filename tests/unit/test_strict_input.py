"""Strict input: what the envelope parser refuses before anything is stored, and how it says so
(a reason for the sender and the element in ``expression``)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from shared.fhir.envelope import InvalidMessage, parse_message
from shared.limits import InputLimits, month_problem, nesting_depth
from tests.support import EXAMPLE_REFERRAL

EXAMPLE: dict[str, Any] = json.loads(EXAMPLE_REFERRAL.read_text(encoding="utf-8"))
Change = Callable[[dict[str, Any]], None]


def _resource(bundle: dict[str, Any], resource_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        e["resource"] for e in bundle["entry"] if e["resource"].get("id") == resource_id
    )
    return found


def _set(resource_id: str, **elements: Any) -> Change:
    def change(bundle: dict[str, Any]) -> None:
        _resource(bundle, resource_id).update(elements)

    return change


def _second_header(bundle: dict[str, Any]) -> None:
    header = copy.deepcopy(bundle["entry"][0])
    header["resource"]["id"] = "another-header"
    header["fullUrl"] = "urn:uuid:another-header"
    bundle["entry"].append(header)


def _hospital_number(value: str) -> Change:
    return _set("p-example-referral-0001", identifier=[{"system": "urn:hn", "value": value}])


NIHSS, LKW, TASK = (
    "nihss-example-referral-0001",
    "lkw-example-referral-0001",
    "example-referral-0001",
)


@pytest.mark.parametrize(
    ("change", "expression", "says"),
    [
        (_set(NIHSS, valueInteger=True), "valueInteger", "must be a JSON integer, not a boolean"),
        (_set(NIHSS, valueInteger="12"), "valueInteger", "must be a JSON integer, not a string"),
        (_set(NIHSS, valueInteger=12.5), "valueInteger", "must be a JSON integer, not a number"),
        (
            _set(LKW, effectiveDateTime="2569-11-23T08:00:00+07:00"),
            "effectiveDateTime",
            "Buddhist-era year (BE 2569 = CE 2026)",
        ),
        (
            _set(TASK, restriction={"period": {"end": "2569-11-23T10:15:00+07:00"}}),
            "restriction.period.end",
            "Buddhist-era year",
        ),
        (_set(LKW, effectiveDateTime="1066-10-14T09:00:00Z"), "effectiveDateTime", "outside"),
        (_second_header, "Bundle.entry[8].resource", "exactly one MessageHeader"),
        (
            _set(NIHSS, modifierExtension=[{"url": "urn:x", "valueBoolean": True}]),
            "modifierExtension",
            "understands no modifier extension",
        ),
        (_hospital_number("HN\x00123"), "identifier[0].value", "control character U+0000"),
        (_hospital_number("HN\x1b[2J"), "identifier[0].value", "control character U+001B"),
        (_hospital_number("H" * 65), "identifier[0].value", "longer than 64 characters"),
        (
            _set(TASK, statusReason={"text": "x" * 5000}),
            "statusReason.text",
            "longer than 4096 characters",
        ),
    ],
    ids=[
        "nihss-true",
        "nihss-string",
        "nihss-decimal",
        "buddhist-era-lkw",
        "buddhist-era-accept-by",
        "year-1066",
        "two-message-headers",
        "modifier-extension",
        "nul-in-hospital-number",
        "escape-in-hospital-number",
        "long-hospital-number",
        "long-free-text",
    ],
)
def test_bad_content_is_refused_naming_the_element(
    change: Change, expression: str, says: str
) -> None:
    bundle = copy.deepcopy(EXAMPLE)
    change(bundle)
    with pytest.raises(InvalidMessage) as refused:
        parse_message(json.dumps(bundle))
    assert says in refused.value.reason
    assert refused.value.expression is not None
    assert expression in refused.value.expression


def _nested(depth: int) -> str:
    return (
        '{"resourceType": "Bundle", "type": "message", "entry": ' + "[" * depth + "]" * depth + "}"
    )


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        ('{"resourceType": "Bundle", "total": ' + "9" * 5000 + "}", "more than 32 characters"),
        (_nested(40), "nested 41 levels deep; at most 32"),
        (_nested(10_000), "nested more than 32 levels deep"),
        (_nested(100_000), "nested more than 32 levels deep"),
        ("x" * (1_048_576 + 1), "larger than 1048576 bytes"),
    ],
    ids=["5000-digit-integer", "depth-41", "depth-10000", "depth-100000", "over-1-MiB"],
)
def test_oversized_json_is_refused_before_it_is_parsed_further(payload: str, says: str) -> None:
    with pytest.raises(InvalidMessage) as refused:
        parse_message(payload)
    assert says in refused.value.reason
    assert refused.value.issue_code == "too-costly"


def test_a_bundle_with_more_entries_than_the_limit_is_refused_before_validation() -> None:
    bundle = copy.deepcopy(EXAMPLE)
    bundle["entry"] *= 4000  # 32,000 entries: 12.9 s of CPU when the models validated them all
    with pytest.raises(InvalidMessage) as refused:
        parse_message(json.dumps(bundle), InputLimits(max_body_bytes=100_000_000))
    assert "32000 entries; at most 100" in refused.value.reason
    assert refused.value.expression == "Bundle.entry"


def test_the_example_referral_and_every_message_the_network_builds_stay_accepted() -> None:
    message = parse_message(EXAMPLE_REFERRAL.read_bytes())
    assert nesting_depth(EXAMPLE) < InputLimits().max_json_depth
    assert parse_message(message.to_json()).message_id == message.message_id


@pytest.mark.parametrize(
    ("month", "says"),
    [
        ("2026-11", None),
        ("2569-11", "Buddhist-era year (BE 2569 = CE 2026)"),
        ("2026-13", "not YYYY-MM"),
        ("2569-13", "not YYYY-MM"),
        ("26-11", "not YYYY-MM"),
        ("1800-01", "outside"),
    ],
)
def test_report_months_are_plausible_gregorian_months(month: str, says: str | None) -> None:
    problem = month_problem(month)
    assert (problem is None) if says is None else (problem is not None and says in problem)
