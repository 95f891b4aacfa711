"""Use cases of the notifier: accept a notification request, then deliver it."""

from __future__ import annotations

from opentelemetry import propagate

from services.notifier.adapters import fhir_mapping, repository
from services.notifier.domain.contacts import ContactBook
from services.notifier.domain.model import Channel, Delivery
from services.notifier.service.outcomes import SOURCE_ENDPOINT
from shared.db.pool import Connection
from shared.fhir.codes import NETWORK_ORGANIZATION
from shared.fhir.envelope import FhirMessage
from shared.messaging.outbox import add_to_outbox
from shared.messaging.topics import NOTIFICATION_OUTCOMES

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
    inserted = await repository.insert_deliveries(
        connection, deliveries=deliveries, hospitals=hospitals
    )
    if inserted and not any(d.channel is not Channel.IN_APP for d in deliveries):
        # Only a live event on the hospital's pages (a hospital with no roster, no channel and
        # no system, or a misspelt one): nobody is reached, and the sender is told now.
        await _tell_nobody_reached(connection, deliveries, reason="no recipient to reach")
    return inserted


async def _tell_nobody_reached(
    connection: Connection, deliveries: list[Delivery], *, reason: str
) -> None:
    first = deliveries[0]
    await add_to_outbox(
        connection,
        topic=NOTIFICATION_OUTCOMES,
        key=first.referral_id,
        message=fhir_mapping.nobody_reached_message(
            request_id=first.request_id,
            referral_id=first.referral_id,
            addressed=sorted({d.addressed_to for d in deliveries if d.addressed_to}),
            priority=first.priority,
            reason=reason,
            source_endpoint=SOURCE_ENDPOINT,
        ),
    )
