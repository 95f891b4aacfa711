"""A consult's steps, each saved with its time and its event queued in the outbox in the same
transaction: a rung of the ladder paged, the consult accepted or failed to connect, and the spoke
alerted through the notifier."""

from __future__ import annotations

from datetime import datetime

from services.telemedicine.adapters import fhir_mapping, repository
from services.telemedicine.adapters.wording import Notice
from services.telemedicine.domain.escalation import Rung
from services.telemedicine.domain.model import Consult, step_of
from services.telemedicine.service.context import TelemedicineContext
from shared.db.pool import Connection
from shared.fhir.envelope import FhirMessage
from shared.messaging.outbox import add_to_outbox
from shared.messaging.topics import NOTIFICATION_REQUESTS, TELEMEDICINE_EVENTS
from shared.workflow.consult_state import ConsultStage

S = ConsultStage


async def record(
    connection: Connection,
    consult: Consult,
    *,
    at: datetime,
    context: TelemedicineContext,
    actor: str | None = None,
) -> None:
    """Saves the consult's new stage and its step, and queues the step's event."""
    step = step_of(consult, at=at, actor=actor)
    await repository.save_consult(connection, consult=consult, step=step)
    await add_to_outbox(
        connection,
        topic=TELEMEDICINE_EVENTS,
        key=consult.referral_id,
        message=fhir_mapping.consult_step_message(
            consult, step=step, source_endpoint=context.source_endpoint
        ),
    )


async def page(
    connection: Connection,
    consult: Consult,
    *,
    rung: int,
    context: TelemedicineContext,
    now: datetime,
    reason: str | None = None,
) -> Consult:
    """Pages ``rung`` of the ladder through the notifier; the consult is paging until the
    rung's deadline. The stroke lead's rung also alerts the spoke."""
    consult = await _record_page(
        connection, consult, rung=rung, context=context, now=now, reason=reason
    )
    await _notify(
        connection,
        consult,
        fhir_mapping.consultant_page(
            consult,
            rung=rung,
            paged=context.ladder.paged(rung, hub=consult.consultant_org),
            consult_url=context.consult_url(consult.id),
            source_endpoint=context.source_endpoint,
        ),
    )
    if rung == Rung.STROKE_LEAD:
        await alert_spoke(connection, consult, Notice.STROKE_LEAD_PAGED, context=context)
    return consult


async def _record_page(
    connection: Connection,
    consult: Consult,
    *,
    rung: int,
    context: TelemedicineContext,
    now: datetime,
    reason: str | None = None,
) -> Consult:
    """The consult paging ``rung`` until the rung's deadline, and the page recorded."""
    consult = paging(consult, rung=rung, context=context, now=now, reason=reason)
    await record(connection, consult, at=now, context=context)
    await repository.add_page(
        connection,
        request_id=fhir_mapping.page_request_id(consult, rung),
        consult_id=consult.id,
        rung=rung,
        paged=context.ladder.paged(rung, hub=consult.consultant_org),
        at=now,
    )
    return consult


def paging(
    consult: Consult,
    *,
    rung: int,
    context: TelemedicineContext,
    now: datetime,
    reason: str | None = None,
) -> Consult:
    """The consult paging ``rung`` until the rung's deadline."""
    return consult.moved_to(
        S.PAGING,
        at=now,
        reason=reason,
        rung=rung,
        next_deadline=context.ladder.deadline(
            rung, hub=consult.consultant_org, requested_at=consult.requested_at
        ),
    )


async def accept(
    connection: Connection,
    consult: Consult,
    *,
    consultant: str | None,
    context: TelemedicineContext,
    now: datetime,
) -> Consult:
    consult = consult.moved_to(S.ACCEPTED, at=now, consultant=consultant)
    await record(connection, consult, at=now, context=context, actor=consultant)
    return consult


async def fail_to_connect(
    connection: Connection,
    consult: Consult,
    *,
    reason: str,
    context: TelemedicineContext,
    now: datetime,
) -> Consult:
    phone = context.hub_phones.get(consult.consultant_org, "")
    consult = consult.moved_to(S.FAILED, at=now, reason=f"failed to connect: {reason}")
    await record(connection, consult, at=now, context=context)
    await alert_spoke(connection, consult, Notice.FAILED_TO_CONNECT, context=context, extra=phone)
    return consult


async def _notify(connection: Connection, consult: Consult, message: FhirMessage) -> None:
    await add_to_outbox(
        connection, topic=NOTIFICATION_REQUESTS, key=consult.referral_id, message=message
    )


async def alert_spoke(
    connection: Connection,
    consult: Consult,
    notice: Notice,
    *,
    context: TelemedicineContext,
    extra: str = "",
) -> None:
    await _notify(
        connection,
        consult,
        fhir_mapping.spoke_alert(
            consult,
            notice=notice,
            consult_url=context.consult_url(consult.id),
            source_endpoint=context.source_endpoint,
            extra=extra,
        ),
    )
