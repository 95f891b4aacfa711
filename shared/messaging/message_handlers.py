"""What a topic's use cases look like to its ``FhirMessageConsumer`` (shared/messaging/consumer.py),
and how a message is refused: a ``PermanentMessageError`` is dead-lettered or answered to the
sender, never read again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager

from shared.db.pool import Connection
from shared.errors import DomainError
from shared.fhir.envelope import FhirMessage
from shared.messaging.inbox import Claim, InboxEntry

MessageHandler = Callable[[Connection, FhirMessage], Awaitable[None]]
# A use case that records the message in the inbox in the statement of its effect
# (``inbox_claim``): one round trip and no transaction, where the effect is one statement. It
# answers what the claim found (``outcome_of``), or None when this message needs more than that
# statement (a follow-up the effect starts): then it wrote nothing, and the message is applied
# by the topic's ``MessageHandler`` in a transaction after an inbox claim of its own. It may
# raise a ``DomainError`` (a refusal) only before it writes anything, and runs in the caller's
# transaction when there is one (the records fetched together).
OneStatementHandler = Callable[[Connection, InboxEntry], Awaitable[Claim | None]]
# Told a topic's messages fetched together, on the connection of their one transaction, before
# the first is applied: what it answers is entered around their applying (e.g. locks their
# statements take one by one, to be taken in one order by the first of them).
TogetherHook = Callable[[Connection, Sequence[FhirMessage]], AbstractContextManager[None]]
# Several records fetched together whose use cases are each one statement, as one statement (a
# service's own, ``ServiceConsumer.apply_together_with``): given the plain records to apply, in
# order, it applies as many as it can from the first and answers what each one's claim found.
# Answering none sends nothing; the records it did not apply are applied one by one, in order.
# It runs in the batch's transaction; a refusal or failure rolls the batch back.
StatementTogether = Callable[[Connection, Sequence[InboxEntry]], Awaitable[Sequence[Claim]]]
# Answers a message that was refused (e.g. with a fatal-error response), in its own transaction.
RefusalHandler = Callable[[Connection, FhirMessage, "PermanentMessageError"], Awaitable[None]]


class PermanentMessageError(DomainError):
    """A valid FHIR message that can never be applied; ``reason`` is safe to log and return.

    ``issue_code`` is the http://hl7.org/fhir/issue-type code for the sender's OperationOutcome,
    ``expression`` the FHIRPath of the element at fault (the same issue $process-message gives).
    ``answer_to``: the Organization id to answer when it is not the message's sender (the
    hospital that really wrote a message sent in another's name).
    """

    def __init__(
        self,
        reason: str,
        *,
        issue_code: str = "processing",
        expression: str | None = None,
        answer_to: str | None = None,
    ) -> None:
        super().__init__(reason, expression=expression)
        self.issue_code = issue_code
        self.answer_to = answer_to

    @classmethod
    def of(cls, error: DomainError) -> PermanentMessageError:
        """A handler's refusal, as the message's: same reason, issue type and element."""
        if isinstance(error, cls):
            return error
        return cls(error.reason, issue_code=error.issue_code, expression=error.expression)


def impersonation(message: FhirMessage, *, writer: str, topic: str) -> PermanentMessageError:
    """The refusal of a message that ``writer``'s topic carried in someone else's name."""
    return PermanentMessageError(
        f"MessageHeader.sender {message.sender[:80]!r} is not Organization/{writer}, the only "
        f"hospital that may write {topic}: a hospital sends only in its own name (not applied)",
        issue_code="forbidden",
        expression="Bundle.entry[0].resource.sender",
        answer_to=writer,
    )
