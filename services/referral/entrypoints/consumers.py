"""Kafka entry points of the referral service: translate messages into use cases."""

from __future__ import annotations

from datetime import UTC, datetime

from services.referral.adapters.fhir_mapping import request_from_message
from services.referral.domain.model import InvalidReferral
from services.referral.service import handlers
from services.referral.service.handlers import ReferralConflict, ReferralEndpoints
from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage
from shared.messaging.consumer import FhirMessageConsumer, MessageHandler, PermanentMessageError
from shared.messaging.topics import (
    HOSPITAL_INBOUND,
    NOTIFICATION_OUTCOMES,
    TELEMEDICINE_EVENTS,
    Topic,
)
from shared.runtime import ServiceRuntime


def hospital_referral_handler(endpoints: ReferralEndpoints) -> MessageHandler:
    async def handle(connection: Connection, message: FhirMessage) -> None:
        try:
            request = request_from_message(message, now=datetime.now(UTC))
            await handlers.request_referral(connection, request=request, endpoints=endpoints)
        except InvalidReferral as invalid:
            raise PermanentMessageError(invalid.reason) from None
        except ReferralConflict as conflict:
            raise PermanentMessageError(f"Referral id {conflict} is already in use") from None

    return handle


def wire_consumers(runtime: ServiceRuntime, endpoints: ReferralEndpoints) -> None:
    subscriptions: dict[Topic, dict[EventCode, MessageHandler]] = {
        HOSPITAL_INBOUND: {EventCode.REFERRAL_REQUESTED: hospital_referral_handler(endpoints)},
        TELEMEDICINE_EVENTS: {
            EventCode.TELECONSULT_REQUESTED: handlers.record_teleconsult_requested
        },
        NOTIFICATION_OUTCOMES: {
            EventCode.NOTIFICATION_SENT: handlers.record_notification_outcome,
            EventCode.NOTIFICATION_FAILED: handlers.record_notification_outcome,
        },
    }
    for topic, topic_handlers in subscriptions.items():
        FhirMessageConsumer(
            broker=runtime.broker,
            pool=runtime.pool,
            topic=topic,
            service_name=runtime.name,
            handlers=topic_handlers,
            retry_backoff_s=runtime.settings.consumer_retry_backoff_s,
        ).subscribe()
