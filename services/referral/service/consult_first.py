"""Consults asked before any referral (consult first): the spoke paged the hub's consultant
while the patient was still in its emergency room. Their steps arrive from telemedicine with no
referral to go on; they are kept (with the request the consult was announced with) until the
consultant's signed recommendation to transfer makes the referral, from what the spoke sent
(patient, last known well, door-in, NIHSS): the kept steps then move onto the new referral's
timeline, so its door-to-request and consult times count as any referral's do. A
recommendation to treat locally makes none. The referral is made once per consult however
often the recommendation arrives (the inbox drops a redelivery; the request's id and the
consult's row, locked, drop a repeat or an amendment)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from services.referral.adapters import consult_first_store as store
from services.referral.adapters import directory, fhir_inbound, fhir_steps
from services.referral.domain.commands import RecordStep
from services.referral.domain.errors import InvalidReferral
from services.referral.service import alerts
from services.referral.service.context import ReferralContext
from services.referral.service.intake import request_referral
from services.referral.service.transfers import recommended_centre
from shared.db.pool import Connection
from shared.errors import InvalidInput
from shared.fhir.codes import EventCode, organization_reference
from shared.fhir.envelope import FhirMessage, parse_message
from shared.fhir.ids import derived_id
from shared.fhir.notifications import notification_request_message
from shared.fhir.references import organization_id
from shared.messaging.outbox import add_to_outbox
from shared.messaging.topics import NOTIFICATION_REQUESTS
from shared.vocabulary.notification_categories import NotificationCategory

log = logging.getLogger(__name__)
# Every teleconsult's id starts so (telemedicine's domain/first_consult.py).
CONSULT_PREFIX = "tc-"


class UnknownFirstConsult(InvalidInput):
    def __init__(self, consult_id: str) -> None:
        super().__init__(f"No teleconsult-requested was seen for consult {consult_id[:80]!r}")


def referral_of_consult(consult_id: str) -> str:
    """The id of the referral a consult asked first makes (the same whoever computes it)."""
    return derived_id("rf-", consult_id)


async def file_step(
    connection: Connection,
    message: FhirMessage,
    *,
    consult_id: str,
    context: ReferralContext,
    now: datetime,
) -> str | None:
    """A step of a consult asked first: the referral it belongs to when the consult made one
    already (the caller records it there as any consult's step), else None: the step is
    kept, and a recommendation to transfer makes the referral and moves the kept steps."""
    if message.event is EventCode.TELECONSULT_REQUESTED:
        await store.keep_request(
            connection,
            consult_id=consult_id,
            requester_org=organization_id(message.sender) or message.sender,
            consultant_org=organization_id(next(iter(message.destinations), None)) or "",
            request=message.to_dict(),
        )
    consult = await store.get_for_update(connection, consult_id=consult_id)
    if consult is None:
        raise UnknownFirstConsult(consult_id)
    if consult.referral_id is not None:
        return consult.referral_id
    step = fhir_steps.teleconsult_step(message, referral_id=referral_of_consult(consult_id))
    await store.keep_step(connection, consult_id=consult_id, step=step)
    centre = recommended_centre(step)
    if centre is not None:
        await _make_referral(connection, consult, centre=centre, context=context, now=now)
    return None


async def file_notification_outcome(
    connection: Connection, *, step: RecordStep
) -> RecordStep | None:
    """A page of a consult asked first is about the consult (there was no referral): the
    outcome goes where its steps go (kept, or on the referral it made). Any other is returned
    as it is, for the referral it is about."""
    if not step.referral_id.startswith(CONSULT_PREFIX):
        return step
    consult = await store.get_for_update(connection, consult_id=step.referral_id)
    if consult is None:
        return step
    if consult.referral_id is not None:
        return replace(step, referral_id=consult.referral_id)
    await store.keep_step(connection, consult_id=consult.consult_id, step=step)
    return None


async def _make_referral(
    connection: Connection,
    consult: store.ConsultFirst,
    *,
    centre: str,
    context: ReferralContext,
    now: datetime,
) -> None:
    """The referral the recommendation asks for, from the spoke (where the patient is) to
    ``centre`` (the hub, or a thrombectomy centre), linked to the consult both ways."""
    asked = fhir_inbound.request_from_message(
        parse_message(consult.request),
        now=now,
        patient_systems=await directory.patient_identifier_systems(connection),
    )
    request = replace(
        asked,
        referral_id=referral_of_consult(consult.consult_id),
        request_message_id=f"consult-first:{consult.consult_id}",
        owner_org=centre,
        # The consult is answered already: the referral asks for no other.
        teleconsult_requested=False,
        suspected_lvo=True if asked.suspected_lvo is None else asked.suspected_lvo,
        requested_at=now,
        accept_by=None,
        from_consult=consult.consult_id,
    )
    try:
        async with connection.transaction():  # a savepoint: a refusal undoes only the referral
            referral_id = await request_referral(connection, request=request, context=context)
    except InvalidReferral as refused:
        # The recommendation itself is kept (its step is); the spoke refers by hand.
        log.warning("consult %s: no referral made: %s", consult.consult_id, refused.reason)
        await store.set_outcome(
            connection, consult_id=consult.consult_id, outcome=f"not started: {refused.reason}"
        )
        await _tell_the_spoke(connection, consult, centre=centre, context=context)
        return
    await store.link(connection, consult_id=consult.consult_id, referral_id=referral_id)
    # Paged late after a door-in now known (door-to-request over 15 min): the spoke is told.
    await alerts.raise_due_alerts_of(connection, referral_id=referral_id, context=context, now=now)


async def _tell_the_spoke(
    connection: Connection, consult: store.ConsultFirst, *, centre: str, context: ReferralContext
) -> None:
    """The advice to transfer could not make the referral (e.g. a centre the directory does not
    know): the spoke is told at once, to refer by hand (no patient data in the text)."""
    await add_to_outbox(
        connection,
        topic=NOTIFICATION_REQUESTS,
        key=consult.consult_id,
        message=notification_request_message(
            request_id=derived_id("cf-refused-", consult.consult_id),
            category=NotificationCategory.TIME_ALERT,
            referral_id=consult.consult_id,
            recipients=[consult.requester_org],
            english=(
                f"The teleconsult advises transfer to {centre}, but the network could not "
                "make the referral: refer the patient yourself."
            ),
            thai=(f"แพทย์ที่ปรึกษาแนะนำให้ส่งต่อไปยัง {centre} แต่ระบบสร้างการส่งต่อไม่ได้ กรุณาส่งต่อผู้ป่วยด้วยตนเอง"),
            link=context.on_call.consult_url(consult.consult_id),
            sender=organization_reference(consult.consultant_org),
            source_endpoint=context.source_endpoint,
        ),
    )
