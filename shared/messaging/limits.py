"""Limits a Kafka record must meet before anyone parses it.

A record of JSON nested thousands of levels deep makes ``json.loads`` raise RecursionError; a
very large record costs seconds of CPU on the event loop. Both are refused here, from the raw
bytes, so the record is dead-lettered with a reason instead of blocking its partition.
"""

from __future__ import annotations

import re

from shared.fhir.envelope import InvalidMessage

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
    if len(value) > max_bytes:
        raise InvalidMessage(
            f"Message is {len(value)} bytes; the limit is {max_bytes} bytes",
            issue_code="too-long",
        )
    if json_depth_exceeds(value, max_depth):
        raise InvalidMessage(f"JSON nests deeper than {max_depth} levels", issue_code="too-long")


# Defaults for every consumer. A referral message is a few kilobytes; the broker itself takes
# records up to about 1 MB, so a record refused here still fits its dead-letter topic.
MAX_RECORD_BYTES = 512 * 1024
# A FHIR message Bundle nests about 10 levels (Bundle.entry.resource.extension.valueX...).
MAX_JSON_DEPTH = 64
