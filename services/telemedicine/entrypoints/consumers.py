"""Kafka entry points of the telemedicine service: referrals that ask for a teleconsult (or
that a consult asked first started), the notifier's acknowledgements of the consult's pages
and their final failures (nobody reached), and hospitals' teleconsults asked before any
referral (on their own inbound topics)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.telemedicine.adapters import hub_directory
from services.telemedicine.service import (
    consult_answers,
    consult_opening,
    first_consult,
    ladder_climb,
)
from services.telemedicine.service.context import TelemedicineContext
from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage
from shared.messaging.inbox import Claim, InboxEntry
from shared.messaging.message_handlers import MessageHandler
from shared.messaging.topics import NOTIFICATION_OUTCOMES, REFERRAL_EVENTS
from shared.runtime import ServiceRuntime


def wire_consumers(runtime: ServiceRuntime, context: TelemedicineContext) -> None:
    async def on_referral_requested(connection: Connection, message: FhirMessage) -> None:
        # A referral a consult asked first started is linked to it; it asks for no other.
        if await first_consult.link_if_started_by_consult(connection, message) is not None:
            return
        await consult_opening.open_consult_if_requested(
            connection, message, context=context, now=datetime.now(UTC)
        )

    async def on_acknowledged(connection: Connection, message: FhirMessage) -> None:
        await consult_answers.acknowledge_page(
            connection, message, context=context, now=datetime.now(UTC)
        )

    async def on_failed(connection: Connection, message: FhirMessage) -> None:
        # Only a page's final failure (nobody reached) moves a consult; one delivery's is news
        # for the timeline, not for the ladder.
        await ladder_climb.climb_if_page_unreached(
            connection, message, context=context, now=datetime.now(UTC)
        )

    async def on_directory_changed(connection: Connection, message: FhirMessage) -> None:
        await hub_directory.replace_directory(
            connection, hub_directory.hubs_of(message), at=datetime.now(UTC)
        )

    async def on_referral_requested_in_one_statement(
        connection: Connection, inbox: InboxEntry
    ) -> Claim | None:
        # The consult opened by the statement that records the message in the inbox.
        return await consult_opening.open_consult_in_one_statement(
            connection, inbox, context=context, now=datetime.now(UTC)
        )

    runtime.subscribe(
        REFERRAL_EVENTS,
        {
            EventCode.REFERRAL_REQUESTED: on_referral_requested,
            EventCode.DIRECTORY_CHANGED: on_directory_changed,
        },
        in_one_statement={EventCode.REFERRAL_REQUESTED: on_referral_requested_in_one_statement},
    )
    runtime.subscribe(
        NOTIFICATION_OUTCOMES,
        {
            EventCode.NOTIFICATION_ACKNOWLEDGED: on_acknowledged,
            EventCode.NOTIFICATION_FAILED: on_failed,
        },
    )


def first_consult_handler(context: TelemedicineContext) -> MessageHandler:
    """A hospital's teleconsult-requested on its own topic, in its own name (the consumer
    dead-letters a refusal with the reason)."""

    async def on_asked_first(connection: Connection, message: FhirMessage) -> None:
        await first_consult.ask_from_message(
            connection, message, context=context, now=datetime.now(UTC)
        )

    return on_asked_first
