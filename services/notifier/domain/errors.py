"""What the notifier's use cases refuse, as kinds of ``shared.errors`` refusal: the HTTP edge
answers each once for every service (status and OperationOutcome, ``shared/web.py``); the LINE
webhook logs and skips an unknown delivery."""

from __future__ import annotations

from shared.errors import Forbidden, NotFound, RuleBroken


class UnknownDelivery(NotFound):
    """An id the notifier never sent (an acknowledgement, a replay)."""

    def __init__(self, delivery_id: str) -> None:
        super().__init__(f"No delivery {delivery_id[:80]!r}")
        self.delivery_id = delivery_id


class UnknownReceipt(NotFound):
    """A delivery receipt for a message the notifier never sent."""

    def __init__(self, delivery_id: str) -> None:
        super().__init__(f"No message was sent with reference {delivery_id[:80]!r}")
        self.delivery_id = delivery_id


class NotYourDelivery(Forbidden):
    """A hospital acting on an alert that was sent to another."""

    def __init__(self, delivery_id: str) -> None:
        super().__init__("This alert was not sent to your hospital")
        self.delivery_id = delivery_id


class NotAFailedDelivery(RuleBroken):
    """Only a delivery that finally failed is replayed (a pending or sent one is not)."""

    def __init__(self, delivery_id: str) -> None:
        super().__init__(f"Delivery {delivery_id[:80]!r} is not a failed delivery")
        self.delivery_id = delivery_id
