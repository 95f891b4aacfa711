"""Kafka headers of every FHIR message (the outbox relay adds W3C ``traceparent`` and the referral's
ids as ``baggage``, shared/messaging/outbox.py)."""

MESSAGE_ID = "message-id"  # = MessageHeader.id, the de-duplication key
EVENT_CODE = "event-code"
SEQUENCE = "sequence"  # per producer and key, so consumers can detect gaps
PRODUCER = "producer"
FHIR_VERSION = "fhir-version"
CONTENT_TYPE = "content-type"

DEAD_LETTER_REASON = "dead-letter-reason"
DEAD_LETTER_SOURCE = "dead-letter-source"  # topic/partition/offset of the original
DEAD_LETTER_CONSUMER = "dead-letter-consumer-group"
# Set (to the body's size in bytes) when the original was too large to copy to the dead letter.
DEAD_LETTER_BODY_OMITTED = "dead-letter-body-omitted"
