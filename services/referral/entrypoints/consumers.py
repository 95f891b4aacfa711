"""Kafka entry points of the referral service: translate messages into use cases.

Hospital systems write their messages to their own topic, fasttrack.hospital.inbound.v1.<id>
(only their Kafka user may: a message there in another hospital's name is refused, see
shared/messaging/consumer.py); the network's own producers may also use the shared
fasttrack.hospital.inbound.v1. Each message is answered with a response message on the sender's
own topic, fasttrack.hospital.responses.v1.<organization id> (the shared
fasttrack.hospital.responses.v1 if the sender is not in the directory): ``ok`` with the Task in
its new state, or ``fatal-error`` with an OperationOutcome saying why it was refused.
"""

from __future__ import annotations

from datetime import UTC, datetime

from services.referral.adapters.fhir_mapping import answer_focus
from services.referral.service import consult_steps, handlers, timeline_echoes
from services.referral.service.context import ReferralContext
from services.referral.service.directory_cache import DirectoryCache
from shared.db.pool import Connection
from shared.fhir.codes import NETWORK_ORGANIZATION, EventCode
from shared.fhir.envelope import FhirMessage
from shared.fhir.models import Task
from shared.fhir.references import organization_id
from shared.fhir.responses import response_message
from shared.messaging.message_handlers import (
    MessageHandler,
    OneStatementHandler,
    PermanentMessageError,
    RefusalHandler,
)
from shared.messaging.outbox import add_to_outbox
from shared.messaging.topics import (
    HOSPITAL_INBOUND,
    HOSPITAL_INBOUND_TOPICS,
    HOSPITAL_RESPONSE_TOPICS,
    HOSPITAL_RESPONSES,
    NOTIFICATION_OUTCOMES,
    TELEMEDICINE_EVENTS,
    PerHospitalTopics,
    Topic,
    hospital_responses,
)
from shared.runtime import ServiceRuntime


async def response_topic(
    connection: Connection, sender: str | None, directory: DirectoryCache
) -> Topic:
    """Where the answer to the Organization ``sender`` goes: its own topic if it is in the
    directory (its topic exists: the directory loader creates it), else the shared one. The
    process's kept copy of the directory answers when it is fresh (no statement)."""
    if sender is None or not await directory.knows(connection, sender):
        return HOSPITAL_RESPONSES
    return hospital_responses(sender)


def hospital_message_handler(context: ReferralContext) -> MessageHandler:
    async def handle(connection: Connection, message: FhirMessage) -> None:
        # A refusal (a DomainError) is answered with a fatal-error response (``refuse``).
        focus = answer_focus(
            await handlers.apply_hospital_message(
                connection, message, context=context, now=datetime.now(UTC)
            )
        )
        await add_to_outbox(
            connection,
            topic=await response_topic(
                connection, organization_id(message.sender), context.directory
            ),
            key=str(focus["id"]),
            message=response_message(
                message,
                code="ok",
                responder=NETWORK_ORGANIZATION,
                source_endpoint=context.source_endpoint,
                focus=[focus],
            ),
        )

    return handle


def refusal_responder(context: ReferralContext) -> RefusalHandler:
    async def refuse(
        connection: Connection, message: FhirMessage, refused: PermanentMessageError
    ) -> None:
        task = message.focus_resource(Task)
        key = str(task.id) if task is not None and task.id else message.message_id
        # Sent in another's name: the hospital that wrote it is told, not the one it named.
        answer_to = refused.answer_to or organization_id(message.sender)
        await add_to_outbox(
            connection,
            topic=await response_topic(connection, answer_to, context.directory),
            key=key,
            message=response_message(
                message,
                code="fatal-error",
                responder=NETWORK_ORGANIZATION,
                source_endpoint=context.source_endpoint,
                diagnostics=refused.reason,
                issue_code=refused.issue_code,
                expression=refused.expression,
                destination=f"Organization/{refused.answer_to}" if refused.answer_to else None,
            ),
        )

    return refuse


def teleconsult_step_handler(context: ReferralContext) -> MessageHandler:
    async def handle(connection: Connection, message: FhirMessage) -> None:
        await consult_steps.record_consult_step(connection, message, context=context)

    return handle


def wire_consumers(runtime: ServiceRuntime, context: ReferralContext) -> None:
    # Every event a hospital may send, but what telemedicine takes: the home-isolation
    # check-ins and the teleconsults asked before any referral.
    hospital_events: dict[EventCode, MessageHandler] = {
        event: hospital_message_handler(context)
        for event in EventCode
        if event not in (EventCode.MONITORING_CHECK_IN, EventCode.TELECONSULT_REQUESTED)
    }
    subscriptions: dict[Topic | PerHospitalTopics, dict[EventCode, MessageHandler]] = {
        HOSPITAL_INBOUND_TOPICS: hospital_events,
        HOSPITAL_INBOUND: hospital_events,
        TELEMEDICINE_EVENTS: {
            event: teleconsult_step_handler(context)
            for event in (
                EventCode.TELECONSULT_REQUESTED,
                EventCode.TELECONSULT_UPDATED,
                EventCode.TELECONSULT_RECOMMENDED,
            )
        },
        NOTIFICATION_OUTCOMES: {
            EventCode.NOTIFICATION_SENT: handlers.record_notification_outcome,
            EventCode.NOTIFICATION_FAILED: handlers.record_notification_outcome,
            EventCode.NOTIFICATION_DELIVERED: handlers.record_notification_outcome,
            EventCode.NOTIFICATION_ACKNOWLEDGED: handlers.record_notification_outcome,
            EventCode.NOTIFICATION_ESCALATED: handlers.record_notification_outcome,
        },
    }
    # The steps of a referral's consult and its pages' outcomes, claimed in the inbox by the
    # statement that puts them on the timeline: one round trip each, no transaction.
    in_one_statement: dict[Topic | PerHospitalTopics, dict[EventCode, OneStatementHandler]] = {
        TELEMEDICINE_EVENTS: {
            event: timeline_echoes.record_consult_step_in_one_statement
            for event in subscriptions[TELEMEDICINE_EVENTS]
        },
        NOTIFICATION_OUTCOMES: {
            event: timeline_echoes.record_page_outcome_in_one_statement
            for event in subscriptions[NOTIFICATION_OUTCOMES]
        },
    }
    # The echoes fetched together (consult steps and page outcomes that only feed timelines):
    # their claims and timeline rows in one statement.
    runtime.consumer.apply_together_with(timeline_echoes.record_echoes_together)
    from_hospitals = (HOSPITAL_INBOUND_TOPICS, HOSPITAL_INBOUND)
    for topic, topic_handlers in subscriptions.items():
        runtime.subscribe(
            topic,
            topic_handlers,
            in_one_statement=in_one_statement.get(topic),
            on_refused=refusal_responder(context) if topic in from_hospitals else None,
            # The AsyncAPI document (GET /asyncapi.json) lists what hospital systems use.
            include_in_schema=topic is HOSPITAL_INBOUND_TOPICS,
        )
    # For the AsyncAPI document only: what hospital systems consume (the outbox relay publishes).
    runtime.specification.publisher(
        HOSPITAL_RESPONSE_TOPICS.address,
        title=HOSPITAL_RESPONSE_TOPICS.address,
        description=HOSPITAL_RESPONSE_TOPICS.description,
    )
