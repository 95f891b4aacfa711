"""What the notifier's use cases refuse. Plain Python: the entry points turn each into an answer
(an HTTP status with an OperationOutcome, or a logged and ignored webhook event)."""

from __future__ import annotations


class UnknownDelivery(LookupError):
    """An id the notifier never sent (an acknowledgement, a replay)."""


class UnknownReceipt(LookupError):
    """A delivery receipt for a message the notifier never sent."""


class NotYourDelivery(PermissionError):
    """A hospital acting on an alert that was sent to another."""


class NotAFailedDelivery(ValueError):
    """Only a delivery that finally failed is replayed (a pending or sent one is not)."""
