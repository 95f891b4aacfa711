"""The answers to a consult's pages and the steps its hospitals ask for: a page acknowledged
(the person who did accepts), and accept, decline, video or cancel from a consult page or the
REST API. Each step is saved with its time, and its event goes out through the outbox in the
same transaction."""

from __future__ import annotations

from datetime import datetime

from services.telemedicine.adapters import early_page_outcomes, fhir_mapping, repository
from services.telemedicine.domain.errors import ConsultNotFound
from services.telemedicine.domain.escalation import first_page_of_referral_consult
from services.telemedicine.domain.model import Consult
from services.telemedicine.service import consult_steps, ladder_climb
from services.telemedicine.service.context import TelemedicineContext
from shared.db.pool import Connection
from shared.fhir.envelope import FhirMessage
from shared.workflow.consult_state import AWAITING_CONSULTANT, ConsultStage

S = ConsultStage


async def acknowledge_page(
    connection: Connection, message: FhirMessage, *, context: TelemedicineContext, now: datetime
) -> Consult | None:
    """The notifier reports a page acknowledged: the person who did accepts the consult (a
    later acknowledgement, once someone accepted, changes nothing)."""
    acknowledged = fhir_mapping.acknowledged_page(message)
    if acknowledged is None:
        return None
    request_id, person = acknowledged
    consult_id = await repository.consult_paged_by(connection, request_id=request_id)
    if consult_id is None:
        referral_id = fhir_mapping.acknowledged_referral(message)
        if first_page_of_referral_consult(request_id, referral_id=referral_id):
            # The referral service's page was answered before its referral event reached us:
            # kept, and the consult is accepted by this person as it opens.
            await early_page_outcomes.keep_early_acknowledgement(
                connection, request_id=request_id, person=person, at=now
            )
        return None  # else a page another service sent
    consult = await repository.get_consult(connection, consult_id=consult_id, for_update=True)
    if consult is None or consult.stage not in AWAITING_CONSULTANT:
        return None
    return await consult_steps.accept(
        connection, consult, consultant=person, context=context, now=now
    )


async def move(
    connection: Connection,
    *,
    consult_id: str,
    party: str,
    stage: ConsultStage,
    reason: str | None,
    by: str | None,
    context: TelemedicineContext,
    now: datetime,
) -> Consult:
    """A step asked for by one of the consult's hospitals (accept, decline, video, cancel)."""
    consult = await repository.get_consult(
        connection, consult_id=consult_id, party=party, for_update=True
    )
    if consult is None:
        raise ConsultNotFound(consult_id)
    if stage is S.ACCEPTED:
        return await consult_steps.accept(
            connection, consult, consultant=by, context=context, now=now
        )
    if stage is S.DECLINED:
        return await ladder_climb.decline(
            connection, consult, reason=reason or "", by=by, context=context, now=now
        )
    moved = consult.moved_to(stage, at=now, reason=reason)
    await consult_steps.record(connection, moved, at=now, context=context, actor=by)
    return moved
