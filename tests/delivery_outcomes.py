"""A page's delivery and the five outcome messages the notifier can write about it (sent, failed,
delivered, acknowledged, escalated), for tests of how those messages are built and read."""

from __future__ import annotations

from datetime import UTC, datetime

from services.notifier.adapters import communication_messages
from services.notifier.domain.model import Channel, Delivery
from shared.fhir.envelope import FhirMessage


def page_delivery() -> Delivery:
    """The on-call neurologist's page of referral r-1, sent to the hub's webhook."""
    return Delivery(
        id="d-1",
        request_id="m-1/page-1",
        referral_id="r-1",
        recipient="PractitionerRole/neurologist-on-call",
        addressed_to="Organization/trang-hospital",
        channel=Channel.WEBHOOK,
        priority="stat",
        body={},
    )


def every_outcome_of(delivery: Delivery) -> list[FhirMessage]:
    """In this order: sent, failed ("webhook answered HTTP 500"), delivered, acknowledged by
    Dr A, escalated; built as the notifier builds them."""
    at = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    return [
        communication_messages.outcome_message(
            delivery, sent=True, reason=None, source_endpoint="urn:t"
        ),
        communication_messages.outcome_message(
            delivery, sent=False, reason="webhook answered HTTP 500", source_endpoint="urn:t"
        ),
        communication_messages.delivered_message(delivery, at=at, source_endpoint="urn:t"),
        communication_messages.acknowledged_message(
            delivery,
            acknowledged_by="web:Dr A",
            at=at,
            source_endpoint="urn:t",
            person=("Dr A", "u-1"),
        ),
        communication_messages.escalated_message(
            delivery, step="next rung", source_endpoint="urn:t"
        ),
    ]
