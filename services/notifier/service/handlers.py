"""Use cases of the notifier: accept a notification request, then deliver it."""

from __future__ import annotations

from opentelemetry import propagate

from services.notifier.adapters import fhir_mapping, repository
from services.notifier.domain.contacts import ContactBook
from shared.db.pool import Connection
from shared.fhir.codes import NETWORK_ORGANIZATION
from shared.fhir.envelope import FhirMessage

_ORGANIZATION = "Organization/"


async def accept_notification_request(
    connection: Connection, message: FhirMessage, *, contacts: ContactBook
) -> int:
    """Records one pending delivery per recipient and channel; the dispatcher sends them.

    Recording first (in the inbox transaction) and sending afterwards is what makes a crash
    harmless: a pending delivery is found again after a restart. The hospitals of the
    referral (the one that asked, as the message's sender, and those alerted) are remembered:
    they, and operators, may read its delivery log.
    """
    trace_context: dict[str, str] = {}
    propagate.inject(trace_context)
    deliveries = fhir_mapping.deliveries_from_request(
        message, contacts=contacts, trace_context=trace_context
    )
    hospitals = {delivery.hospital for delivery in deliveries if delivery.hospital}
    if message.sender.startswith(_ORGANIZATION) and message.sender != NETWORK_ORGANIZATION:
        hospitals.add(message.sender.removeprefix(_ORGANIZATION))
    # The deliveries and the hospitals that may read their log: one statement.
    return await repository.insert_deliveries(
        connection, deliveries=deliveries, hospitals=hospitals
    )
