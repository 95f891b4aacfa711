"""Kafka record limits judged from the raw bytes, before any parser runs."""

from __future__ import annotations

import pytest

from shared.fhir.envelope import InvalidMessage
from shared.messaging.limits import check_record_limits, json_depth_exceeds

# (document, deepest nesting) written out by hand
CASES = [
    (b"{}", 1),
    (b'{"a": [1, {"b": []}]}', 4),
    (b'{"text": "[[[[[[{{{{"}', 1),  # brackets inside a string do not count
    (b'{"text": "a \\" [[[[ quote"}', 1),  # nor after an escaped quote
    (b'[[["\\\\"]]]', 3),  # an escaped backslash ends before the closing quote
    (b"[" * 10_000 + b"]" * 10_000, 10_000),
]


@pytest.mark.parametrize(("document", "depth"), CASES)
def test_the_depth_is_counted_outside_strings_only(document: bytes, depth: int) -> None:
    assert not json_depth_exceeds(document, depth)
    assert json_depth_exceeds(document, depth - 1)


def test_a_record_over_the_size_or_depth_limit_is_refused_with_a_reason() -> None:
    with pytest.raises(InvalidMessage, match="the limit is 10 bytes"):
        check_record_limits(b"x" * 11, max_bytes=10, max_depth=5)
    with pytest.raises(InvalidMessage, match="deeper than 5 levels"):
        check_record_limits(b"[" * 6 + b"]" * 6, max_bytes=100, max_depth=5)
    check_record_limits(b"[" * 5 + b"]" * 5, max_bytes=100, max_depth=5)
