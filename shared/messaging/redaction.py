"""What an operator may see of a dead letter: its shape and ids, never the patient.

A dead letter holds a hospital's message as it came: a FHIR Bundle with the patient's name,
identifiers and notes, or bytes that are not even JSON. The operators' console shows it
redacted by an allowlist, not a blocklist (a blocklist misses the field nobody thought of): the
JSON's structure with only the members that name things (``resourceType``, ``id``, codes,
statuses, references); every other value becomes ``"…"``. Headers the same way: only the
network's own. A reason quotes an exception, never patient data, but a validation error can
quote the value it refused (pydantic's ``input_value=...``): that part is cut out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from shared.messaging import headers

REDACTED = "…"
# Members whose values are ids, codes, states or references: what tells a message's shape.
_KEPT_MEMBERS = frozenset(
    {
        "resourceType",
        "id",
        "type",
        "timestamp",
        "status",
        "intent",
        "code",
        "system",
        "reference",
        "fullUrl",
        "eventCoding",
        "eventUri",
        "response",
        "identifier",
        "focus",
        "sender",
        "destination",
        "receiver",
        "requester",
        "owner",
        "for",
        "basedOn",
        "entry",
        "resource",
        "coding",
        "category",
        "meta",
        "profile",
        "endpoint",
    }
)
# Inside these a value is anybody's identifier (a patient's hospital number, a national id):
# kept only under a resource that is not a person.
_PERSON_RESOURCES = frozenset({"Patient", "Practitioner", "RelatedPerson", "Person"})
# The network's own headers: what the consumer saw and why it gave up.
KEPT_HEADERS = (
    headers.MESSAGE_ID,
    headers.EVENT_CODE,
    headers.SEQUENCE,
    headers.PRODUCER,
    headers.FHIR_VERSION,
    headers.CONTENT_TYPE,
    headers.DEAD_LETTER_REASON,
    headers.DEAD_LETTER_SOURCE,
    headers.DEAD_LETTER_CONSUMER,
    headers.DEAD_LETTER_BODY_OMITTED,
)
_INPUT_VALUE = re.compile(r"input_value=.*?(?=, input_type=|\]|$)", re.DOTALL)
_MAX_SHOWN_CHARS = 16_000


def redacted_reason(reason: str) -> str:
    return _INPUT_VALUE.sub(f"input_value={REDACTED}", reason)


def redacted_headers(record_headers: Mapping[str, str]) -> dict[str, str]:
    shown = {name: record_headers[name] for name in KEPT_HEADERS if name in record_headers}
    if headers.DEAD_LETTER_REASON in shown:
        shown[headers.DEAD_LETTER_REASON] = redacted_reason(shown[headers.DEAD_LETTER_REASON])
    return shown


def redacted_payload(body: bytes) -> str:
    """The body's JSON shape with only ids, codes, states and references; or what it is."""
    if not body:
        return "(empty)"
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return f"({len(body)} bytes, not JSON: not shown)"
    text = json.dumps(_redact(document, person=False), ensure_ascii=False, indent=1)
    return text if len(text) <= _MAX_SHOWN_CHARS else text[:_MAX_SHOWN_CHARS] + "\n" + REDACTED


def _redact(value: Any, *, person: bool) -> Any:
    if isinstance(value, dict):
        person = person or value.get("resourceType") in _PERSON_RESOURCES
        kept: dict[str, Any] = {}
        for name, member in value.items():
            if name in _KEPT_MEMBERS and not (person and name == "identifier"):
                kept[name] = _redact(member, person=person)
            else:
                kept[name] = REDACTED
        return kept
    if isinstance(value, list):
        return [_redact(item, person=person) for item in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return REDACTED
