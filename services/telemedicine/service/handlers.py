"""Use cases of the telemedicine service."""

from __future__ import annotations

from services.telemedicine.adapters import fhir_mapping, repository
from services.telemedicine.domain.model import Consult
from services.telemedicine.service.context import TelemedicineContext
from shared.db.pool import Connection
from shared.fhir.envelope import FhirMessage
from shared.messaging.outbox import add_to_outbox
from shared.messaging.topics import NOTIFICATION_REQUESTS, TELEMEDICINE_EVENTS


async def open_consult_if_requested(
    connection: Connection, message: FhirMessage, *, context: TelemedicineContext
) -> Consult | None:
    """On referral-requested: opens a teleconsult when the referral asks for one."""
    parties = fhir_mapping.referral_parties(message)
    if parties is None:
        return None
    referral_id, requester_org, owner_org = parties
    consult = Consult.for_referral(
        referral_id=referral_id, requester_org=requester_org, consultant_org=owner_org
    )
    if not await repository.insert_consult(connection, consult=consult):
        return None  # already open (the same referral announced twice)
    await add_to_outbox(
        connection,
        topic=TELEMEDICINE_EVENTS,
        key=referral_id,
        message=fhir_mapping.teleconsult_requested_message(
            consult, source_endpoint=context.source_endpoint
        ),
    )
    await add_to_outbox(
        connection,
        topic=NOTIFICATION_REQUESTS,
        key=referral_id,
        message=fhir_mapping.neurologist_alert(
            consult,
            consult_url=context.consult_url(consult.id),
            source_endpoint=context.source_endpoint,
        ),
    )
    return consult
