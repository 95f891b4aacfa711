"""Property-based fuzzing of what every Kafka consumer does with a record before touching the
database: parse the FHIR message, then map it (the referral service's hospital messages, the
telemedicine service's referral events, the notifier's notification requests). Whatever the
bytes, the only failures are the refusals each consumer turns into a dead letter or a
fatal-error answer; anything else would be retried and then dead-lettered as a bug."""

from __future__ import annotations

import contextlib
import copy
import json
import os
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.notifier.adapters.fhir_mapping import deliveries_from_request
from services.notifier.domain.contacts import ContactBook
from services.referral.adapters import fhir_inbound, fhir_mapping
from services.referral.domain import lifecycle
from services.referral.domain.errors import InvalidRequest
from services.telemedicine.adapters.fhir_mapping import referral_parties
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage, InvalidMessage, parse_message
from shared.fhir.notifications import notification_request_message
from shared.messaging.message_handlers import PermanentMessageError
from shared.vocabulary.notification_categories import NotificationCategory
from tests.support import EXAMPLE_REFERRAL, hospital_message

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
FUZZ = settings(
    max_examples=int(os.environ.get("FT_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

SEEDS: list[dict[str, Any]] = [
    json.loads(EXAMPLE_REFERRAL.read_text(encoding="utf-8")),
    hospital_message(
        "referral-declined",
        sender="trang-hospital",
        receiver="sikao-hospital",
        referral_id="r-1",
        status="rejected",
        status_reason="no bed",
    )[0],
    json.loads(
        notification_request_message(
            request_id="n-1",
            category=NotificationCategory.STROKE_ALERT,
            referral_id="r-1",
            recipients=["trang-hospital"],
            english="Stroke alert",
            thai="แจ้งเตือน",
            link="https://ft.example/r/r-1",
            sender="Organization/fasttrack-network",
            source_endpoint="urn:test",
        ).to_json()
    ),
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*path, index))
    return found


@st.composite
def mutated_messages(draw: st.DrawFn) -> bytes:
    """A real message with a few elements replaced by arbitrary JSON or removed."""
    document = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(_paths(document)[1:]))
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
        if not _paths(document)[1:]:
            break
    return json.dumps(document).encode()


def _consume(message: FhirMessage) -> None:
    """What each service's consumer does with a parsed message before the database."""
    try:
        if message.event in (EventCode.REFERRAL_REQUESTED, EventCode.STROKE_PREALERT):
            fhir_inbound.request_from_message(message, now=NOW)
        elif message.event is EventCode.AVAILABILITY_CHANGED:
            fhir_mapping.availability_from_message(message)
        elif message.event in lifecycle.RULES:
            fhir_inbound.change_from_message(message, now=NOW)
    except InvalidRequest:
        pass  # answered with a fatal-error response naming the problem
    referral_parties(message)
    if message.event is EventCode.NOTIFICATION_REQUESTED:
        with contextlib.suppress(PermanentMessageError):  # dead-lettered with its reason
            deliveries_from_request(message, contacts=ContactBook(), trace_context={})


def _parse_and_consume(payload: bytes) -> None:
    try:
        message = parse_message(payload)
    except InvalidMessage as refused:
        refusal: InvalidMessage | None = refused
    else:
        refusal = None
        _consume(message)
    if refusal is not None:
        assert refusal.reason  # dead-lettered with a reason


@FUZZ
@given(mutated_messages())
def test_a_mutated_message_is_consumed_or_refused_with_a_reason(payload: bytes) -> None:
    _parse_and_consume(payload)


@FUZZ
@given(st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_arbitrary_bytes_are_refused_with_a_reason(payload: bytes) -> None:
    _parse_and_consume(payload)


def test_the_unmutated_seeds_are_consumed() -> None:
    for seed in SEEDS:
        _consume(parse_message(json.dumps(seed)))
