"""Limits a Kafka record must meet before anyone parses it.

A record of JSON nested thousands of levels deep makes ``json.loads`` recurse until it raises
RecursionError; a very large record costs seconds of CPU on the event loop. Both are refused
here, from the raw bytes, so the record is dead-lettered with a reason instead of blocking its
partition. What the parser then checks (number length, entries, strings) is ``shared.limits``,
the same for Kafka and HTTP.
"""

from __future__ import annotations

import re

from shared.fhir.envelope import InvalidMessage
from shared.limits import DEFAULT_LIMITS

# A JSON string (skipped whole, so brackets inside text do not count) or a bracket.
_STRING_OR_BRACKET = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_OPENING = frozenset(b"[{")


def json_depth_exceeds(document: bytes, limit: int) -> bool:
    """True when arrays and objects nest deeper than ``limit`` anywhere in ``document``.

    Stops at the first level past the limit, so a hostile record costs no more than a few
    hundred matches. Malformed JSON is not judged here (the parser says what is wrong with it).
    """
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(document):
        first = match.group()[0]
        if first in _OPENING:
            depth += 1
            if depth > limit:
                return True
        elif first != ord('"'):
            depth -= 1
    return False


def check_record_limits(value: bytes, *, max_bytes: int, max_depth: int) -> None:
    """Raises InvalidMessage (reason for the dead letter) when ``value`` breaks a limit."""
    check_record_size(value, max_bytes=max_bytes)
    check_json_depth(value, max_depth=max_depth)


def check_record_size(value: bytes, *, max_bytes: int) -> None:
    if len(value) > max_bytes:
        raise InvalidMessage(
            f"Message is {len(value)} bytes; the limit is {max_bytes} bytes",
            issue_code="too-costly",
        )


def check_json_depth(value: bytes, *, max_depth: int) -> None:
    if json_depth_exceeds(value, max_depth):
        raise InvalidMessage(f"JSON nests deeper than {max_depth} levels", issue_code="too-costly")


# Defaults for every consumer. A referral message is a few kilobytes; the broker itself takes
# records up to about 1 MB, so a record refused here still fits its dead-letter topic.
MAX_RECORD_BYTES = 512 * 1024
# The same depth as over HTTP (a FHIR message Bundle nests about ten levels).
MAX_JSON_DEPTH = DEFAULT_LIMITS.max_json_depth
