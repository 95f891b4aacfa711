"""A message recorded in the inbox and applied once: by its event's one-statement use case
(``OneStatementHandler``: the inbox claim in the statement of its effect, one round trip, no
transaction) where it has one and that statement is all it needs, else by an inbox claim and
the topic's ``MessageHandler`` in one transaction (the caller's, with the records fetched
together, or one of its own). A redelivery finds its claim and has no second effect; a
sender's id reused for other content is refused."""

from __future__ import annotations

import logging

import asyncpg

from shared.db.pool import Connection
from shared.messaging.inbox import Claim, InboxEntry, claim_message, reused_id_reason
from shared.messaging.message_handlers import (
    MessageHandler,
    OneStatementHandler,
    PermanentMessageError,
)

log = logging.getLogger(__name__)


async def claim_and_apply(
    connection: Connection,
    entry: InboxEntry,
    *,
    handler: MessageHandler,
    one_statement: OneStatementHandler | None,
    own_transaction: bool,
) -> Claim:
    """What the inbox claim of ``entry`` found; its message applied when it was the first.
    ``own_transaction``: the claim and the handler run in a transaction of their own (else in
    the caller's)."""
    claim = await claim_in_one_statement(connection, entry, one_statement)
    if claim is not None:
        return claim
    if not own_transaction:
        return await _claim_then_handle(connection, entry, handler)
    async with connection.transaction():
        return await _claim_then_handle(connection, entry, handler)


async def claim_in_one_statement(
    connection: Connection, entry: InboxEntry, one_statement: OneStatementHandler | None
) -> Claim | None:
    """The message claimed and applied by its event's ``OneStatementHandler``, in one
    statement; None when it has none or needs more (nothing written)."""
    if one_statement is None:
        return None
    try:
        return await one_statement(connection, entry)
    except asyncpg.UniqueViolationError:
        if connection.is_in_transaction():
            raise  # the transaction is spoilt: the caller rolls it back and tries again
        # Claimed at the same moment by another consumer (a rebalance): nothing written.
        return None


async def _claim_then_handle(
    connection: Connection, entry: InboxEntry, handler: MessageHandler
) -> Claim:
    claim = await claim_message(
        connection, message=entry.message, topic=entry.topic, digest=entry.digest
    )
    if claim is Claim.FIRST:
        await handler(connection, entry.message)
    return claim


def applied(claim: Claim, entry: InboxEntry) -> bool:
    """Whether the claim applied the message: False for a repeat (skipped); a sender's id
    reused for other content is refused (``PermanentMessageError``)."""
    if claim is Claim.REUSED_ID:
        raise PermanentMessageError(reused_id_reason(entry.message), issue_code="duplicate")
    if claim is Claim.REPEAT:
        log.info("duplicate message %s skipped", entry.message.message_id)
        return False
    return True
