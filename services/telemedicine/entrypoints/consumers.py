"""Kafka entry points of the telemedicine service."""

from __future__ import annotations

from services.telemedicine.service.context import TelemedicineContext
from services.telemedicine.service.handlers import open_consult_if_requested
from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage
from shared.messaging.consumer import FhirMessageConsumer
from shared.messaging.topics import REFERRAL_EVENTS
from shared.runtime import ServiceRuntime


def wire_consumers(runtime: ServiceRuntime, context: TelemedicineContext) -> None:
    async def on_referral_requested(connection: Connection, message: FhirMessage) -> None:
        await open_consult_if_requested(connection, message, context=context)

    FhirMessageConsumer(
        broker=runtime.broker,
        pool=runtime.pool,
        topic=REFERRAL_EVENTS,
        service_name=runtime.name,
        handlers={EventCode.REFERRAL_REQUESTED: on_referral_requested},
    ).subscribe()
