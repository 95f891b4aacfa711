"""Each refusal of the notifier's use cases is answered by the one shared mapping: its HTTP status
and OperationOutcome issue type, with a reason that names the delivery and nothing personal."""

from __future__ import annotations

import pytest

from services.notifier.domain.errors import (
    NotAFailedDelivery,
    NotYourDelivery,
    UnknownDelivery,
    UnknownReceipt,
)
from shared.errors import DomainError
from shared.web import refusal_outcome, refusal_status

DELIVERY_ID = "0b7c4f2e-5d1a-5c3e-9f60-2a4d8e1b7c90"


@pytest.mark.parametrize(
    ("refusal", "status", "issue", "says"),
    [
        (UnknownDelivery(DELIVERY_ID), 404, "not-found", f"No delivery '{DELIVERY_ID}'"),
        (UnknownReceipt(DELIVERY_ID), 404, "not-found", "No message was sent with reference"),
        (NotYourDelivery(DELIVERY_ID), 403, "forbidden", "not sent to your hospital"),
        (NotAFailedDelivery(DELIVERY_ID), 409, "business-rule", "is not a failed delivery"),
    ],
)
def test_each_notifier_refusal_has_its_status_and_issue_type(
    refusal: DomainError, status: int, issue: str, says: str
) -> None:
    outcome = refusal_outcome(refusal)
    assert refusal_status(refusal) == status
    assert outcome["issue"][0]["code"] == issue
    assert says in outcome["issue"][0]["diagnostics"]
