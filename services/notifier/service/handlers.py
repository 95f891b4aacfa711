"""Use cases of the notifier: accept a notification request, then deliver it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from services.notifier.adapters import communication_messages, fhir_mapping, request_deliveries
from services.notifier.adapters.in_app import shown_on_pages
from services.notifier.adapters.live_events import ShownEvent
from services.notifier.domain.contacts import ContactBook
from services.notifier.domain.model import Channel, Delivery
from services.notifier.service.dispatch import with_acknowledgement_link
from services.notifier.service.links import AcknowledgementLinks
from services.notifier.service.outcomes import SOURCE_ENDPOINT
from shared.db.pool import Connection
from shared.fhir.codes import NETWORK_ORGANIZATION
from shared.fhir.envelope import FhirMessage
from shared.messaging.inbox import Claim, InboxEntry, claim_message
from shared.messaging.outbox import add_to_outbox
from shared.messaging.topics import NOTIFICATION_OUTCOMES
from shared.tracing import stored_trace_context

_ORGANIZATION = "Organization/"


async def accept_notification_request(
    connection: Connection,
    message: FhirMessage,
    *,
    contacts: ContactBook,
    acknowledgement_links: AcknowledgementLinks | None = None,
    leases: Leases | None = None,
) -> int:
    """Records one pending delivery per recipient and channel; the dispatcher sends them.

    Recording first (in the inbox transaction) and sending afterwards is what makes a crash
    harmless: a pending delivery is found again after a restart. The hospitals of the
    referral (the one that asked, as the message's sender, and those alerted) are remembered:
    they, and operators, may read its delivery log. A live event on a hospital's pages is a
    write to this database, so it is published and recorded sent by the same statement (no
    dispatcher round: its claim, its statement and its commit). ``leases``: told how many
    live events the statement published (``Leases.shown``) and whether it left deliveries for the
    dispatcher's claim; it leases nothing here.
    """
    deliveries, hospitals = _deliveries_and_hospitals(message, contacts)
    # The deliveries, the hospitals that may read their log and the live events: one statement.
    inserted, shown = await request_deliveries.insert_deliveries(
        connection,
        deliveries=deliveries,
        hospitals=hospitals,
        shown=_shown_on_pages(deliveries, acknowledgement_links),
    )
    if leases is not None:
        leases.shown = shown
        leases.left_pending = inserted > shown  # new deliveries the dispatcher is to claim
    if inserted and _nobody_to_reach(deliveries):
        # Only a live event on the hospital's pages (a hospital with no roster, no channel and
        # no system, or a misspelt one): nobody is reached, and the sender is told now.
        await _tell_nobody_reached(connection, deliveries, reason="no recipient to reach")
    return inserted


@dataclass
class Leases:
    """Up to ``room`` of a request's deliveries leased to this process's dispatcher by the
    statement that records them (as its claim would lease them: for ``seconds``, the first
    attempt), so it sends them when the statement commits without claiming them first;
    ``taken``: those the statement wrote leased. The others are left for its claim."""

    seconds: float
    room: int
    taken: list[Delivery] = field(default_factory=list)
    left_pending: bool = False
    # In-app deliveries the statement sent (their live events published).
    shown: int = 0


async def accept_notification_request_in_one_statement(
    connection: Connection,
    inbox: InboxEntry,
    *,
    contacts: ContactBook,
    acknowledgement_links: AcknowledgementLinks | None = None,
    leases: Leases | None = None,
) -> Claim | None:
    """``accept_notification_request`` with the message recorded in the inbox by the statement
    of its deliveries, no transaction (was BEGIN, claim, deliveries, COMMIT): what the claim
    found. None, with nothing written, when nobody is there to reach (telling the sender so is
    a second statement: the transaction's way)."""
    deliveries, hospitals = _deliveries_and_hospitals(inbox.message, contacts)
    if not deliveries:  # the claim is the message's whole effect
        return await claim_message(
            connection, message=inbox.message, topic=inbox.topic, digest=inbox.digest
        )
    if _nobody_to_reach(deliveries):
        return None
    shown = _shown_on_pages(deliveries, acknowledgement_links)
    published = {event.delivery_id for event in shown}
    to_send = [delivery for delivery in deliveries if delivery.id not in published]
    to_lease = to_send[: leases.room] if leases is not None and leases.room > 0 else []
    claim, leased, shown_count = await request_deliveries.insert_claimed_deliveries(
        connection,
        deliveries=deliveries,
        hospitals=hospitals,
        inbox=inbox,
        shown=shown,
        leased=[delivery.id for delivery in to_lease],
        lease_s=leases.seconds if leases is not None else 0.0,
    )
    if leases is not None:
        leases.taken = [
            dataclasses.replace(delivery, attempts=1)
            for delivery in to_lease
            if delivery.id in leased
        ]
        leases.left_pending = claim is Claim.FIRST and len(leases.taken) < len(to_send)
        leases.shown = shown_count
    return claim


def _shown_on_pages(
    deliveries: list[Delivery], links: AcknowledgementLinks | None
) -> list[ShownEvent]:
    """The live events of the request's in-app deliveries (one with no hospital is left to the
    dispatcher, which fails it), each with its acknowledgement link, as the dispatcher sends."""
    return [
        ShownEvent(
            delivery_id=delivery.id,
            organization=delivery.hospital,
            payload=shown_on_pages(with_acknowledgement_link(delivery, links)),
        )
        for delivery in deliveries
        if delivery.channel is Channel.IN_APP and delivery.hospital
    ]


def _deliveries_and_hospitals(
    message: FhirMessage, contacts: ContactBook
) -> tuple[list[Delivery], set[str]]:
    """The request's deliveries (each to go on in the current trace) and the hospitals of the
    referral: those alerted, and the one that asked (the message's sender)."""
    trace_context = stored_trace_context()
    deliveries = fhir_mapping.deliveries_from_request(
        message, contacts=contacts, trace_context=trace_context
    )
    hospitals = {delivery.hospital for delivery in deliveries if delivery.hospital}
    if message.sender.startswith(_ORGANIZATION) and message.sender != NETWORK_ORGANIZATION:
        hospitals.add(message.sender.removeprefix(_ORGANIZATION))
    return deliveries, hospitals


def _nobody_to_reach(deliveries: list[Delivery]) -> bool:
    return all(delivery.channel is Channel.IN_APP for delivery in deliveries)


async def _tell_nobody_reached(
    connection: Connection, deliveries: list[Delivery], *, reason: str
) -> None:
    first = deliveries[0]
    await add_to_outbox(
        connection,
        topic=NOTIFICATION_OUTCOMES,
        key=first.referral_id,
        message=communication_messages.nobody_reached_message(
            request_id=first.request_id,
            referral_id=first.referral_id,
            addressed=sorted({d.addressed_to for d in deliveries if d.addressed_to}),
            priority=first.priority,
            reason=reason,
            source_endpoint=SOURCE_ENDPOINT,
        ),
    )
