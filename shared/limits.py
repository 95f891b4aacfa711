"""Input limits: how much a caller may send, in one place (set from PlatformSettings, FT_ prefix).

A FHIR message for one referral is a few kilobytes with a dozen entries nested about ten deep;
the defaults leave a wide margin above that while keeping the work one message can cause small:
the largest accepted message parses in milliseconds, so the event loop keeps answering.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.settings import PlatformSettings


@dataclass(frozen=True)
class InputLimits:
    max_body_bytes: int = 1_048_576
    max_json_depth: int = 32
    # An integer or decimal written with more characters than this is refused before Python
    # converts it (int() of a long digit string is quadratic, and over 4,300 digits it raises).
    max_number_chars: int = 32
    max_bundle_entries: int = 100
    # Identifier.value (a hospital number) and every other string.
    max_identifier_chars: int = 64
    max_text_chars: int = 4096

    @classmethod
    def from_settings(cls, settings: PlatformSettings) -> InputLimits:
        return cls(
            max_body_bytes=settings.http_max_body_bytes,
            max_json_depth=settings.json_max_depth,
            max_number_chars=settings.json_max_number_chars,
            max_bundle_entries=settings.bundle_max_entries,
            max_identifier_chars=settings.max_identifier_chars,
            max_text_chars=settings.max_text_chars,
        )


DEFAULT_LIMITS = InputLimits()


class InputTooLarge(ValueError):
    """The input breaks a limit; ``reason`` is safe to show the sender."""

    def __init__(self, reason: str, *, expression: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.expression = expression


def load_json(payload: bytes | str, limits: InputLimits = DEFAULT_LIMITS) -> Any:
    """``json.loads`` within the limits: size, number length and nesting depth.

    Raises InputTooLarge for a limit, json.JSONDecodeError (a ValueError) for broken JSON.
    """
    if len(payload) > limits.max_body_bytes:
        raise InputTooLarge(f"The message is larger than {limits.max_body_bytes} bytes")

    def bounded(convert: Any) -> Any:
        def parse(text: str) -> Any:
            if len(text) > limits.max_number_chars:
                raise InputTooLarge(
                    f"A number is written with more than {limits.max_number_chars} characters"
                )
            return convert(text)

        return parse

    try:
        document = json.loads(payload, parse_int=bounded(int), parse_float=bounded(float))
    except RecursionError:
        # The C decoder recurses per level and stops near Python's recursion limit (~1,000).
        raise InputTooLarge(f"JSON nested more than {limits.max_json_depth} levels deep") from None
    depth = nesting_depth(document)
    if depth > limits.max_json_depth:
        raise InputTooLarge(f"JSON nested {depth} levels deep; at most {limits.max_json_depth}")
    return document


def nesting_depth(document: Any) -> int:
    """How deep objects and arrays nest (iteratively, a level at a time: no recursion limit to
    hit). Only objects and arrays are kept for the next level: a scalar is looked at once, with
    no tuple, generator step or stack entry of its own (the scan took longer than the parse)."""
    depth = 0
    level = [document] if isinstance(document, (dict, list)) else []
    while level:
        depth += 1
        below: list[Any] = []
        for value in level:
            for child in value.values() if isinstance(value, dict) else value:
                if isinstance(child, (dict, list)):
                    below.append(child)
        level = below
    return depth


# Dates of this system's patients and referrals; a Buddhist-era year (CE + 543) typed where a
# Gregorian one belongs is the likely slip in Thailand, and is named as such.
EARLIEST_YEAR = 1900
BUDDHIST_ERA_OFFSET = 543


def implausible_year(year: int) -> str | None:
    """Why a year cannot be a date of this system's patients and referrals, or None."""
    latest = datetime.now(UTC).year + 1
    if EARLIEST_YEAR <= year <= latest:
        return None
    if EARLIEST_YEAR <= year - BUDDHIST_ERA_OFFSET <= latest:
        return (
            f"the year {year} looks like a Buddhist-era year (BE {year} = CE "
            f"{year - BUDDHIST_ERA_OFFSET}); dates are Gregorian (CE)"
        )
    return f"the year {year} is outside {EARLIEST_YEAR}-{latest}"


# For form fields and other text that is not FHIR: no control characters (NUL, C0, DEL).
NO_CONTROLS = r"^[^\x00-\x1f\x7f]*$"
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def month_problem(month: str) -> str | None:
    """Why ``month`` is not a plausible YYYY-MM report month, or None."""
    match = _MONTH.fullmatch(month)
    if match is None or not 1 <= int(match[2]) <= 12:
        return f"month {month[:20]!r} is not YYYY-MM (e.g. 2026-11)"
    problem = implausible_year(int(match[1]))
    return f"month {month}: {problem}" if problem else None
