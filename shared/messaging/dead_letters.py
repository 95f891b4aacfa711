"""Dead letters: a record that can never be processed goes to its topic's ``.dlq`` twin, with the
reason, where it came from and which consumer group gave up on it, in headers."""

from __future__ import annotations

import logging

from aiokafka import ConsumerRecord
from aiokafka.errors import MessageSizeTooLargeError
from faststream.kafka import KafkaBroker
from opentelemetry import trace

from shared.messaging import headers
from shared.messaging.topics import DEAD_LETTER_SUFFIX

log = logging.getLogger(__name__)

# Longest reason written to a header: a reason quotes an exception, never patient data, but an
# exception's text can be long.
MAX_REASON_CHARS = 500


def dead_letter_topic(topic: str) -> str:
    return f"{topic}{DEAD_LETTER_SUFFIX}"


async def publish_dead_letter(
    broker: KafkaBroker, record: ConsumerRecord[bytes, bytes], *, reason: str, group: str
) -> None:
    """Publishes ``record`` to its dead-letter topic; raises if the broker cannot take it (the
    record is then read again, as for any broker outage)."""
    reason = reason[:MAX_REASON_CHARS]
    log.warning(
        "dead-lettering %s[%s]@%s: %s", record.topic, record.partition, record.offset, reason
    )
    trace.get_current_span().add_event("dead-lettered", {"reason": reason})
    original = {name: value.decode(errors="replace") for name, value in record.headers or ()}
    for context_header in ("traceparent", "tracestate", "baggage"):
        original.pop(context_header, None)
    dead_headers = {
        **original,
        headers.DEAD_LETTER_REASON: reason,
        headers.DEAD_LETTER_SOURCE: f"{record.topic}/{record.partition}/{record.offset}",
        headers.DEAD_LETTER_CONSUMER: group,
    }
    body = record.value or b""
    try:
        await broker.publish(
            body, dead_letter_topic(record.topic), key=record.key, headers=dead_headers
        )
    except MessageSizeTooLargeError:
        # Too big to copy: the record stays in its topic at the offset the header names.
        await broker.publish(
            b"",
            dead_letter_topic(record.topic),
            key=record.key,
            headers={**dead_headers, headers.DEAD_LETTER_BODY_OMITTED: str(len(body))},
        )
