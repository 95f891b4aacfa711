"""What a record of one topic holds, and what its topic's consumer would do with it, without
doing it (``RecordReader.read``): a FHIR message and its handler, another service's event to skip
(told from the relay's headers), a message sent in another hospital's name, or a record that is
no message at all, with the reason (dead-lettered by the ``FhirMessageConsumer``).

A hospital's record is judged from its bytes (size, JSON depth) and validated whole; a record
the network's own relay wrote was validated where it entered the network and is read without
validating it again (``_read_relayed``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from aiokafka import ConsumerRecord

from shared.fhir.codes import EventCode
from shared.fhir.envelope import (
    FhirMessage,
    InvalidMessage,
    message_json,
    parse_message,
    read_relayed_message,
)
from shared.fhir.models import FHIR_VERSION
from shared.fhir.references import organization_id
from shared.limits import DEFAULT_LIMITS
from shared.messaging import headers
from shared.messaging.inbox import received_content_digest
from shared.messaging.limits import (
    MAX_JSON_DEPTH,
    MAX_RECORD_BYTES,
    check_json_depth,
    check_record_limits,
    check_record_size,
)
from shared.messaging.message_handlers import MessageHandler
from shared.messaging.topics import PerHospitalTopics, Topic
from shared.tracing import ReferralIds

# The event codes as a relayed record's ``event-code`` header holds them.
_EVENTS = {code.value.encode(): code for code in EventCode}


@dataclasses.dataclass(frozen=True)
class Unreadable:
    """A record that is no FHIR message this platform takes (dead-lettered with the reason)."""

    reason: str


@dataclasses.dataclass(frozen=True)
class Skipped:
    """A record of the network's relay whose event (its ``event-code`` header) this service has
    no handler for: another service's event on a shared topic, told from the record's headers
    without reading its body (internal hops trust the relay's envelope, as ``_read_relayed``)."""

    ids: ReferralIds


@dataclasses.dataclass(frozen=True)
class ReadRecord:
    message: FhirMessage
    ids: ReferralIds
    # None: another service's event on a shared topic (skipped).
    handler: MessageHandler | None
    # The hospital that wrote the message in another's name on its own topic (refused).
    impersonator: str | None
    # The inbox's digest (``received_content_digest``) from the JSON read for the message, not
    # from the bytes read again; "" for a record skipped (no handler).
    digest: str

    @property
    def plain(self) -> bool:
        """Applied as it is, or skipped: nothing to dead-letter or to answer before it."""
        return self.impersonator is None


class RecordReader:
    """Reads the records of ``topic`` (or of every hospital's own topic) for a consumer with
    ``handlers``."""

    def __init__(
        self, topic: Topic | PerHospitalTopics, handlers: Mapping[EventCode, MessageHandler]
    ) -> None:
        self._topic = topic
        self._handlers = handlers

    def read(self, record: ConsumerRecord[bytes, bytes]) -> ReadRecord | Unreadable | Skipped:
        """What ``record`` holds and what its topic's consumer would do with it."""
        value = record.value or b""
        relayed = self._relayed(record)
        if relayed:
            skipped = self._skipped(record)
            if skipped is not None:
                return skipped
        try:
            if relayed:
                message = _read_relayed(value)
                document = message.document
            else:
                # A hospital's record: judged from its bytes, then validated whole.
                check_record_limits(value, max_bytes=MAX_RECORD_BYTES, max_depth=MAX_JSON_DEPTH)
                document = message_json(value, DEFAULT_LIMITS)
                message = parse_message(document)
        except InvalidMessage as invalid:
            return Unreadable(invalid.reason)
        key = (record.key or b"").decode(errors="replace")
        ids = ReferralIds.from_headers(record.headers or ()).merged(
            ReferralIds.of_message(message, key=key)
        )
        handler = self._handlers.get(message.event)
        writer = self._writer(record.topic)
        impersonated = (
            handler is not None and writer is not None and organization_id(message.sender) != writer
        )
        digest = received_content_digest(value, document) if handler is not None else ""
        return ReadRecord(message, ids, handler, writer if impersonated else None, digest)

    def _skipped(self, record: ConsumerRecord[bytes, bytes]) -> Skipped | None:
        """The relayed ``record`` as skipped when its ``event-code`` header names a known event
        this topic's consumer has no handler for; None when it has one (or no such header): read."""
        code = next((v for n, v in record.headers or () if n == headers.EVENT_CODE), None)
        event = _EVENTS.get(code) if code is not None else None
        if event is None or event in self._handlers:
            return None
        key = (record.key or b"").decode(errors="replace")
        return Skipped(ReferralIds.from_headers(record.headers or ()).merged(ReferralIds.of(key)))

    def _relayed(self, record: ConsumerRecord[bytes, bytes]) -> bool:
        """Whether the network's own outbox relay published the record: it names its producer
        and the FHIR version it was built for, on a topic no hospital writes."""
        found = dict(record.headers or ())
        return (
            headers.PRODUCER in found
            and found.get(headers.FHIR_VERSION) == FHIR_VERSION.encode()
            and self._writer(record.topic) is None
        )

    def _writer(self, topic: str) -> str | None:
        """The hospital whose own topic ``topic`` is (the only one its ACL lets write it)."""
        if isinstance(self._topic, PerHospitalTopics):
            return self._topic.organization(topic)
        return None


def _read_relayed(value: bytes) -> FhirMessage:
    """A record of the network's own relay, validated where it entered the network: its depth
    is not scanned (1-4 % of a service's CPU, nearly all on these internal hops). Only the
    network's services write these topics, and their builders' every output is parsed back
    strictly, nesting included, by the test suite; orjson refuses JSON nested past 1,024 levels,
    so a record that is no such message is still dead-lettered, with its depth as the reason."""
    check_record_size(value, max_bytes=MAX_RECORD_BYTES)
    try:
        return read_relayed_message(value)
    except InvalidMessage:
        check_json_depth(value, max_depth=MAX_JSON_DEPTH)
        raise
