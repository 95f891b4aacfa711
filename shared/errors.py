"""Refusals, as every service's domain raises them: plain Python, no framework.

A service's domain errors subclass one of the kinds below; the kind says what sort of refusal it
is (``issue_code``, an http://hl7.org/fhir/issue-type code), and the edges turn it into an answer
once for all services: an HTTP status with an OperationOutcome (``shared/web.py``), a
``fatal-error`` response message or a dead letter (``shared/messaging/consumer.py``).
"""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """A request or message the service refuses.

    ``reason`` is shown to the sender and logged: it never carries patient data. ``expression``
    is the FHIRPath of the element at fault, when the refusal names one.
    """

    # Each kind's class says it; an error may say more precisely (``PermanentMessageError``).
    issue_code: str = "processing"

    def __init__(
        self,
        reason: str,
        *,
        expression: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        # With ``params``, ``reason`` is a %-format sentence (``%(name)s``): the same sentence
        # is a message id a page translates (``template``) before it fills in the parameters.
        self.template = reason
        self.params = {name: str(value) for name, value in (params or {}).items()}
        self.reason = reason % self.params if params else reason
        super().__init__(self.reason)
        self.expression = expression


class InvalidInput(DomainError):
    """The content is wrong: a value out of range, a missing or contradictory element."""

    issue_code = "invalid"


class NotSupported(DomainError):
    """The service does not do what is asked (e.g. an event hospitals may not send)."""

    issue_code = "not-supported"


class Forbidden(DomainError):
    """The sender may not do this (e.g. change a referral between other hospitals)."""

    issue_code = "forbidden"


class NotFound(DomainError):
    """What the request is about does not exist."""

    issue_code = "not-found"


class RuleBroken(DomainError):
    """Allowed in general, but not now: a business rule (e.g. the Task state machine) refuses."""

    issue_code = "business-rule"


class Duplicate(DomainError):
    """An identifier already used for something else."""

    issue_code = "duplicate"
