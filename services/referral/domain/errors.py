"""Why the referral service refuses a request or a message: one hierarchy, each error a kind of
refusal of shared/errors.py, answered at the edges (HTTP status and OperationOutcome, fatal-error
response or dead letter) without the use cases knowing how."""

from __future__ import annotations

from services.referral.domain.routing_reasons import RoutingReason
from shared.errors import Duplicate, Forbidden, InvalidInput, NotFound, NotSupported
from shared.workflow.task_state import TransitionRefused

__all__ = [
    "InvalidReferral",
    "InvalidRequest",
    "NoDestination",
    "NotAParty",
    "ReferralConflict",
    "ReferralNotFound",
    "TransitionRefused",  # the Task state machine's own refusal (a RuleBroken)
    "UnsupportedEvent",
]


class InvalidRequest(InvalidInput):
    """A request the service cannot act on; ``reason`` says why, for the sender."""


class InvalidReferral(InvalidRequest):
    """The request cannot become a referral (or change one); ``reason`` says why."""


class NoDestination(InvalidReferral):
    """No hospital can take the patient now; ``reasons`` are the routing engine's."""

    def __init__(self, reasons: tuple[RoutingReason, ...]) -> None:
        super().__init__(
            "No hospital can take the patient now: %(reasons)s",
            expression="Task.owner",
            params={"reasons": "; ".join(str(reason) for reason in reasons)},
        )
        self.reasons = reasons


class UnsupportedEvent(NotSupported):
    """Hospital systems cannot send this event to the referral service."""


class NotAParty(Forbidden):
    """The sender is not the organization allowed to make this change."""


class ReferralNotFound(NotFound):
    def __init__(self, referral_id: str) -> None:
        super().__init__(f"Unknown referral {referral_id}")
        self.referral_id = referral_id


class ReferralConflict(Duplicate):
    """A different request already used this referral id."""

    def __init__(self, referral_id: str) -> None:
        super().__init__(f"Referral id {referral_id} is already in use")
        self.referral_id = referral_id
