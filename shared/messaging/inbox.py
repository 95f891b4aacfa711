"""Inbox: the consumed message is recorded in the same transaction as the message's effect.

A message is the same message when the same sender sends the same MessageHeader.id with the
same content. The id is scoped to its sender, so one hospital can never reach another's message
(or its stored answer) by reusing its id; and the content is compared by a digest, so a sender
that reuses one of its own ids for different content is told so instead of being answered with
the old message's result while the new content is dropped.

Where a message's whole effect is one statement (a step on a referral's timeline, a consult
opened, a referral stored), that statement records the message too (``inbox_claim``): one round
trip and no transaction, instead of BEGIN, the claim, the statement and COMMIT.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from typing import Any

import asyncpg
import orjson

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


def received_content_digest(value: bytes, document: object = None) -> str:
    """SHA-256 of the entries of a message as it was received, read from its bytes (a Kafka
    record's value or an HTTP body): no model dump, which cost more than validating the message.
    A retry resends the same message unchanged (the relay republishes the stored payload byte for
    byte), so a repeat has the same digest; a digest stored by ``content_digest`` (versions that
    digested the model) is matched by ``claim_message`` too.

    ``document``: the JSON the caller has already read from ``value`` (by orjson or the standard
    library, unchanged since), so the bytes are not read a second time for the digest.

    The canonical JSON is the standard library's (``sort_keys``, compact, UTF-8), byte for byte
    the same as every version before wrote it, so stored digests keep matching. orjson writes the
    same bytes about three times faster, except for a number with a fraction or an exponent
    (``1e-7``, not ``1e-07``; ``0.00001``, not ``1e-05``; an integer past 64 bits, which
    orjson reads as a fraction and cannot write): a message with such a number, or one orjson
    cannot read (a UTF-8 BOM, UTF-16, Infinity: what ``parse_message`` accepts), is written by
    the standard library, so the digest of a message that was read never fails and never
    differs."""
    if document is None:
        try:
            document = orjson.loads(value)
        except orjson.JSONDecodeError:
            return hashlib.sha256(_canonical_by_standard_library(value)).hexdigest()
    if not isinstance(document, dict):
        return hashlib.sha256(_canonical_by_standard_library(value)).hexdigest()
    entries = document.get("entry", [])
    if _has_float(entries):
        return hashlib.sha256(_canonical_by_standard_library(value)).hexdigest()
    try:
        canonical = orjson.dumps(entries, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return hashlib.sha256(_canonical_by_standard_library(value)).hexdigest()
    return hashlib.sha256(canonical).hexdigest()


def _has_float(document: object) -> bool:
    # A level at a time, only objects and arrays kept for the next one: every message read pays
    # this scan.
    if isinstance(document, float):
        return True
    level: list[Any] = [document] if isinstance(document, (dict, list)) else []
    while level:
        below: list[Any] = []
        for value in level:
            for child in value.values() if isinstance(value, dict) else value:
                if isinstance(child, (dict, list)):
                    below.append(child)
                elif isinstance(child, float):
                    return True
        level = below
    return False


def _canonical_by_standard_library(value: bytes) -> bytes:
    """The canonical JSON of the entries as every version wrote it (``json`` reads a UTF-8 BOM
    and UTF-16 too)."""
    entries = json.loads(value).get("entry", [])
    canonical = json.dumps(entries, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return canonical.encode()


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


@dataclasses.dataclass(frozen=True)
class InboxEntry:
    """A message's inbox row, for a use case that records it in the statement of its effect
    (``inbox_claim``): one round trip and no transaction where the effect is one statement."""

    message: FhirMessage
    topic: str
    # The message's digest as received (``received_content_digest``).
    digest: str

    @property
    def parameters(self) -> tuple[str, str, str, str, str]:
        """The five values ``inbox_claim`` reads, in its parameters' order."""
        message = self.message
        return (message.sender, message.message_id, self.topic, message.event.value, self.digest)


def inbox_claim(first_parameter: int, *, only_if: str | None = None) -> str:
    """Two CTEs of a caller's statement that record ``InboxEntry.parameters`` (passed from
    ``$first_parameter`` on) with the statement's effect: ``inbox_seen`` (the id's stored row)
    and ``inbox_claimed`` (a row when the id was new, and ``only_if``, a CTE of the statement,
    returned a row). The effect's writes depend on ``inbox_claimed`` (``WHERE EXISTS (SELECT
    FROM inbox_claimed)``), so the message and its effect are recorded together or not at all;
    the statement selects ``INBOX_OUTCOME`` for ``outcome_of``. A concurrent claim of the same
    id makes the statement fail (a unique violation) instead of recording the effect without
    its claim: nothing is written, and the caller claims it the ordinary way
    (``claim_message``, in a transaction). Apart (``inbox_seen``, ``inbox_claimed``) when the
    effect comes between: it writes only if the id was not seen, and the claim only if it
    wrote."""
    return f"{inbox_seen(first_parameter)}, {inbox_claimed(first_parameter, only_if=only_if)}"


def inbox_seen(first_parameter: int) -> str:
    """The CTE ``inbox_seen`` of ``inbox_claim``."""
    p = first_parameter
    # Built from numbers in the caller's own SQL, never from input.
    return f"""
inbox_seen AS (
    SELECT content_digest FROM inbox
    WHERE message_id = ${p + 1} AND sender IN (${p}, '') LIMIT 1
)"""  # noqa: S608


def inbox_claimed(first_parameter: int, *, only_if: str | None = None) -> str:
    """The CTE ``inbox_claimed`` of ``inbox_claim`` (after ``inbox_seen``)."""
    p = first_parameter
    condition = f"AND EXISTS (SELECT FROM {only_if})" if only_if else ""
    # Built from numbers and a name in the caller's own SQL, never from input.
    return f"""
inbox_claimed AS (
    INSERT INTO inbox (sender, message_id, topic, event_code, content_digest)
    SELECT ${p}, ${p + 1}, ${p + 2}, ${p + 3}, ${p + 4}
    WHERE NOT EXISTS (SELECT FROM inbox_seen) {condition}
    RETURNING 1
)"""  # noqa: S608


# The columns a statement with ``inbox_claim`` selects for ``outcome_of``.
INBOX_OUTCOME = """EXISTS (SELECT FROM inbox_seen) AS inbox_seen,
       (SELECT content_digest FROM inbox_seen) AS inbox_stored_digest,
       EXISTS (SELECT FROM inbox_claimed) AS inbox_claimed"""


def outcome_of(row: asyncpg.Record, entry: InboxEntry) -> Claim | None:
    """What the statement's ``inbox_claim`` found: FIRST (claimed, with the effect), REPEAT or
    REUSED_ID (seen before: nothing written), or None (neither: ``only_if`` returned no row)."""
    if row["inbox_seen"]:
        return _seen(row["inbox_stored_digest"], entry.message, entry.digest, digest_given=True)
    return Claim.FIRST if row["inbox_claimed"] else None


def _seen(
    stored_digest: str | None, message: FhirMessage, digest: str, *, digest_given: bool
) -> Claim:
    same = stored_digest in (None, digest) or (
        # A digest of the received bytes, against one stored from the model (by a version
        # before received_content_digest).
        digest_given and stored_digest == content_digest(message)
    )
    return Claim.REPEAT if same else Claim.REUSED_ID


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
            return _seen(row["stored_digest"], message, digest, digest_given=digest_given)
        if row["inserted"]:
            return Claim.FIRST
    return Claim.REPEAT
