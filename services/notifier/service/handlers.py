"""Use cases of the notifier: accept a notification request, then deliver it."""

from __future__ import annotations

from opentelemetry import propagate

from services.notifier.adapters import fhir_mapping, repository
from services.notifier.domain.contacts import ContactBook
from shared.db.pool import Connection
from shared.fhir.envelope import FhirMessage


async def accept_notification_request(
    connection: Connection, message: FhirMessage, *, contacts: ContactBook
) -> int:
    """Records one pending delivery per recipient and channel; the dispatcher sends them.

    Recording first (in the inbox transaction) and sending afterwards is what makes a crash
    harmless: a pending delivery is found again after a restart.
    """
    trace_context: dict[str, str] = {}
    propagate.inject(trace_context)
    created = 0
    for delivery in fhir_mapping.deliveries_from_request(
        message, contacts=contacts, trace_context=trace_context
    ):
        created += await repository.insert_delivery(connection, delivery=delivery)
    return created
