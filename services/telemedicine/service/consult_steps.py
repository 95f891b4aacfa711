"""A consult's steps, each saved with its time and its event queued in the outbox in the same
transaction: a rung of the ladder paged, the consult accepted or failed to connect, and the spoke
alerted through the notifier."""

from __future__ import annotations

from datetime import datetime

from services.telemedicine.adapters import fhir_mapping, hub_directory, repository
from services.telemedicine.adapters.wording import Notice, failed_to_connect
from services.telemedicine.domain.escalation import ConnectFailure, Rung
from services.telemedicine.domain.model import Consult, step_of
from services.telemedicine.service.context import TelemedicineContext
from shared.db.pool import Connection
from shared.fhir.envelope import FhirMessage
from shared.messaging.outbox import add_to_outbox
from shared.messaging.topics import NOTIFICATION_REQUESTS, TELEMEDICINE_EVENTS
from shared.vocabulary.terms import Term
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
    why: ConnectFailure,
    context: TelemedicineContext,
    now: datetime,
) -> Consult:
    """The consult failed to connect (its step's ``reason``); the spoke is told ``why`` and
    whom to call: the hub, by its name in the directory, at its number, or the network's
    coordination line when the hub has no number configured, or the hub by its name alone."""
    hub = await hub_directory.hub_named(connection, consult.consultant_org)
    # In Thai its Thai name when the directory has one; its id when the directory lacks it.
    hub_name = (
        Term(hub.name, hub.name_th or hub.name)
        if hub is not None
        else Term(consult.consultant_org, consult.consultant_org)
    )
    text = failed_to_connect(
        why,
        hub=hub_name,
        hub_phone=context.hub_phones.get(consult.consultant_org, ""),
        coordination_phone=context.coordination_phone,
    )
    consult = consult.moved_to(S.FAILED, at=now, reason=f"failed to connect: {reason}")
    await record(connection, consult, at=now, context=context)
    await alert_spoke(connection, consult, Notice.FAILED_TO_CONNECT, context=context, text=text)
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
    text: Term | None = None,
) -> None:
    """Alerts the consult's spoke with ``notice`` (``text``: its words, when they depend on
    the consult)."""
    await _notify(
        connection,
        consult,
        fhir_mapping.spoke_alert(
            consult,
            notice=notice,
            consult_url=context.consult_url(consult.id),
            source_endpoint=context.source_endpoint,
            text=text,
        ),
    )
