"""Inbox: the consumed message is recorded in the same transaction as the message's effect.

A message is the same message when the same sender sends the same MessageHeader.id with the
same content. The id is scoped to its sender, so one hospital can never reach another's message
(or its stored answer) by reusing its id; and the content is compared by a digest, so a sender
that reuses one of its own ids for different content is told so instead of being answered with
the old message's result while the new content is dropped.
"""

from __future__ import annotations

import enum
import hashlib
import json

from shared.db.pool import Connection
from shared.fhir.envelope import FhirMessage


class Claim(enum.Enum):
    FIRST = "first"  # never seen: apply it
    REPEAT = "repeat"  # the same message again: do not apply it twice
    REUSED_ID = "reused-id"  # the sender's id of another message: refuse it


def content_digest(message: FhirMessage) -> str:
    """SHA-256 of the message's entries in canonical JSON.

    Bundle.id, Bundle.timestamp and Bundle.meta are left out: a sender that rebuilds the
    envelope around the same message when it retries is sending the same message.
    """
    entries = message.bundle.model_dump(mode="json", exclude_none=True).get("entry", [])
    canonical = json.dumps(entries, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def received_content_digest(value: bytes) -> str:
    """SHA-256 of the entries of a message as it was received, read from its bytes (a Kafka
    record's value or an HTTP body): no model dump, which cost more than validating the message.
    A retry resends the same message unchanged (the relay republishes the stored payload byte for
    byte), so a repeat has the same digest; a digest stored by ``content_digest`` (versions that
    digested the model) is matched by ``claim_message`` too. Read with the standard library's
    decoder, which accepts whatever ``parse_message`` accepted (a UTF-8 BOM, UTF-16), so the
    digest of a message that was read never fails."""
    entries = json.loads(value).get("entry", [])
    canonical = json.dumps(entries, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def reused_id_reason(message: FhirMessage) -> str:
    return (
        f"MessageHeader.id {message.message_id[:80]!r} was already used by this sender for a "
        "message with different content; give every new message a new id (a retry must resend "
        "the same message unchanged)"
    )


def refused_writer(organization_id: str) -> str:
    """The inbox's sender key of messages refused because their writer sent them in another's
    name: the writer's own, apart from the ids it sends in its name (and from the named
    hospital's, which stay that hospital's)."""
    return f"refused-writer:Organization/{organization_id}"


# Rows recorded before ids were scoped to senders have an empty sender and no digest. The insert
# waits for a concurrent claim of the same id; when that one commits, nothing is inserted and
# nothing was seen (it began after this statement's snapshot): the caller looks again.
_CLAIM = """
WITH stored AS (
    SELECT content_digest FROM inbox WHERE message_id = $2 AND sender IN ($1, '') LIMIT 1
), inserted AS (
    INSERT INTO inbox (sender, message_id, topic, event_code, content_digest)
    SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM stored)
    ON CONFLICT (sender, message_id) DO NOTHING
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM stored) AS seen,
       (SELECT content_digest FROM stored) AS stored_digest,
       EXISTS (SELECT 1 FROM inserted) AS inserted
"""


async def claim_message(
    connection: Connection,
    *,
    message: FhirMessage,
    topic: str,
    digest: str | None = None,
    sender: str | None = None,
) -> Claim:
    """Records the message in the inbox; says whether it is new, a repeat or a reused id.
    ``digest``: the message's content_digest when the caller has it already. ``sender``: whom
    the id is scoped to, when it is not ``MessageHeader.sender`` (``refused_writer``)."""
    digest_given = digest is not None
    digest = digest or content_digest(message)
    sender = sender or message.sender
    for _ in range(2):  # a concurrent first claim committed after this statement began: again
        # One round trip: look for the id and, when it is not there, record it.
        row = await connection.fetchrow(
            _CLAIM, sender, message.message_id, topic, message.event.value, digest
        )
        if row is None:
            raise RuntimeError("the inbox claim returned no row")
        if row["seen"]:
            stored_digest = row["stored_digest"]
            same = stored_digest in (None, digest) or (
                # A digest of the received bytes, against one stored from the model (by a
                # version before received_content_digest).
                digest_given and stored_digest == content_digest(message)
            )
            return Claim.REPEAT if same else Claim.REUSED_ID
        if row["inserted"]:
            return Claim.FIRST
    return Claim.REPEAT
