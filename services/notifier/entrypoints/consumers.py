"""Kafka entry points of the notifier."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager

from services.notifier.domain.contacts import ContactBook
from services.notifier.domain.model import Channel
from services.notifier.service.acknowledgements import acknowledge_answered_alerts
from services.notifier.service.delivery_metrics import DeliveryMetrics
from services.notifier.service.feed_order import feeds_locked_together
from services.notifier.service.handlers import (
    Leases,
    accept_notification_request,
    accept_notification_request_in_one_statement,
)
from services.notifier.service.links import AcknowledgementLinks
from services.notifier.workers.dispatcher import DeliveryDispatcher
from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage
from shared.messaging.inbox import Claim, InboxEntry
from shared.messaging.topics import NOTIFICATION_REQUESTS
from shared.runtime import ServiceRuntime

# Leased deliveries kept for statements not yet committed: a batch of records applied together
# holds at most its own; more are of messages rolled back and never applied again.
_MOST_AWAITING_COMMIT = 1000


def wire_consumers(
    runtime: ServiceRuntime,
    dispatcher: DeliveryDispatcher,
    contacts: ContactBook,
    acknowledgement_links: AcknowledgementLinks | None = None,
    metrics: DeliveryMetrics | None = None,
) -> None:
    # A request's deliveries leased to this dispatcher by its statement (and the live events it
    # published), by message id, until the statement commits (after_commit hands them over and
    # counts them); a rolled-back statement's are replaced when its message is applied again.
    leased: dict[str, Leases] = {}

    def awaiting_commit(message: FhirMessage, leases: Leases) -> None:
        leased.pop(message.message_id, None)
        if leases.taken or leases.shown:
            while len(leased) >= _MOST_AWAITING_COMMIT:  # those of messages never committed
                leased.pop(next(iter(leased)))
            leased[message.message_id] = leases

    async def on_notification_requested(connection: Connection, message: FhirMessage) -> None:
        # The transaction's way (e.g. a request that reaches only its hospital's pages): its
        # live events are published by its statement too, and counted at the commit.
        leases = Leases(seconds=dispatcher.lease_s, room=0)
        await accept_notification_request(
            connection,
            message,
            contacts=contacts,
            acknowledgement_links=acknowledgement_links,
            leases=leases,
        )
        awaiting_commit(message, leases)

    async def on_notification_requested_in_one_statement(
        connection: Connection, inbox: InboxEntry
    ) -> Claim | None:
        # The records fetched together are applied before any commits: the room left is what
        # the earlier ones have not leased (else a batch of requests leased up to the room
        # each, and the dispatcher sent that many at once, past its bound).
        awaiting = sum(len(earlier.taken) for earlier in leased.values())
        leases = Leases(seconds=dispatcher.lease_s, room=max(0, dispatcher.room() - awaiting))
        claim = await accept_notification_request_in_one_statement(
            connection,
            inbox,
            contacts=contacts,
            acknowledgement_links=acknowledgement_links,
            leases=leases,
        )
        awaiting_commit(inbox.message, leases)
        return claim

    def after_commit(message: FhirMessage) -> None:
        leases = leased.pop(message.message_id, None)
        if leases is None:
            dispatcher.wake()  # send at once rather than at the dispatcher's next poll
            return
        dispatcher.take(leases.taken)
        if metrics is not None and leases.shown:
            metrics.sent_with_request(channel=Channel.IN_APP.value, count=leases.shown)
        if leases.left_pending:
            dispatcher.wake()

    async def on_alerts_answered(connection: Connection, message: FhirMessage) -> None:
        await acknowledge_answered_alerts(connection, message)

    def applying_together(
        connection: Connection, messages: Sequence[FhirMessage]
    ) -> AbstractContextManager[None]:
        # The hospitals' feed locks of the records fetched together: all in one order, first.
        return feeds_locked_together(connection, messages, contacts=contacts)

    runtime.subscribe(
        NOTIFICATION_REQUESTS,
        {
            EventCode.NOTIFICATION_REQUESTED: on_notification_requested,
            # A hospital answered its alerts on the clinicians' board: stop repeating them.
            EventCode.NOTIFICATION_ACKNOWLEDGED: on_alerts_answered,
        },
        # A request's deliveries and its inbox claim: one statement, no transaction.
        in_one_statement={
            EventCode.NOTIFICATION_REQUESTED: on_notification_requested_in_one_statement
        },
        after_commit=after_commit,
        applying_together=applying_together,
    )
