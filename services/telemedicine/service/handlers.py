"""Use cases of the telemedicine service: a consult opened, paged up the ladder, accepted or
declined, on video, cancelled or failed. Each step is saved with its time, and its event goes
out through the outbox in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from services.telemedicine.adapters import fhir_mapping, repository
from services.telemedicine.adapters.wording import Notice
from services.telemedicine.domain.errors import ConsultNotFound
from services.telemedicine.domain.escalation import (
    NOBODY_REACHED,
    Rung,
    climbs_when_unreached,
    next_rung,
)
from services.telemedicine.domain.model import Consult, step_of
from services.telemedicine.service.context import TelemedicineContext
from shared.db.pool import Connection
from shared.fhir.envelope import FhirMessage
from shared.messaging.inbox import Claim, InboxEntry, claim_message
from shared.messaging.outbox import OutboxEvent, add_all_to_outbox, add_to_outbox
from shared.messaging.topics import NOTIFICATION_REQUESTS, TELEMEDICINE_EVENTS
from shared.workflow import consult_ids
from shared.workflow.consult_state import AWAITING_CONSULTANT, ConsultStage

S = ConsultStage


async def open_consult_if_requested(
    connection: Connection, message: FhirMessage, *, context: TelemedicineContext, now: datetime
) -> Consult | None:
    """On referral-requested: opens a teleconsult when the referral asks for one. The referral
    service paged the hub's on-call consultant with the referral (shared/consult_paging.py):
    that page is recorded as the ladder's first rung, not sent again."""
    parties = fhir_mapping.referral_parties(message)
    if parties is None:
        return None
    consult = Consult.for_referral(
        referral_id=parties.referral_id,
        requester_org=parties.requester_org,
        consultant_org=parties.owner_org,
        at=now,
        patient=parties.patient,
    )
    return await start(connection, consult, context=context, now=now, first_page_sent=True)


async def open_consult_in_one_statement(
    connection: Connection, inbox: InboxEntry, *, context: TelemedicineContext, now: datetime
) -> Claim | None:
    """On referral-requested, ``open_consult_if_requested`` with the message recorded in the
    inbox by the consult's one statement, no transaction (was BEGIN, claim, opening, COMMIT):
    what the claim found. None, with nothing written, when it needs more: a referral a consult
    asked first started (linked to it), a consult open already, or an acknowledgement of its
    first page that came before it (the consult is accepted as it opens)."""
    message = inbox.message
    links = fhir_mapping.referral_task_links(message)
    if links is not None and any(based_on.startswith("Task/") for based_on in links[1]):
        return None
    parties = fhir_mapping.referral_parties(message)
    if parties is None:  # no teleconsult asked: the claim is the message's whole effect
        return await claim_message(
            connection, message=message, topic=inbox.topic, digest=inbox.digest
        )
    consult = _paging(
        Consult.for_referral(
            referral_id=parties.referral_id,
            requester_org=parties.requester_org,
            consultant_org=parties.owner_org,
            at=now,
            patient=parties.patient,
        ),
        rung=Rung.ON_CALL,
        context=context,
        now=now,
    )
    step = step_of(consult, at=now)
    requested_and_paging = fhir_mapping.teleconsult_requested_message(
        consult, source_endpoint=context.source_endpoint, step=step
    )
    return await repository.open_claimed_consult_paged(
        connection,
        consult=consult,
        step=step,
        page_request_id=fhir_mapping.page_request_id(consult, Rung.ON_CALL),
        paged=context.ladder.paged(Rung.ON_CALL, hub=consult.consultant_org),
        events=[OutboxEvent(TELEMEDICINE_EVENTS, consult.referral_id, requested_and_paging)],
        inbox=inbox,
    )


async def start(
    connection: Connection,
    consult: Consult,
    *,
    context: TelemedicineContext,
    now: datetime,
    first_page_sent: bool = False,
    supporting: Sequence[Any] = (),
) -> Consult | None:
    """Opens the consult (a referral's, a home-isolation episode's red flag's, or one asked
    first, whose request carries ``supporting``: what it was asked with) and pages the
    consultant hospital's on-call consultant (``first_page_sent``: the page went already, it is
    only recorded); None when it is open already."""
    if first_page_sent:
        return await _open_paged(
            connection, consult, context=context, now=now, supporting=supporting
        )
    if not await repository.insert_consult(connection, consult=consult):
        return None  # already open (the same referral announced twice)
    requested = fhir_mapping.teleconsult_requested_message(
        consult, source_endpoint=context.source_endpoint, supporting=supporting
    )
    await add_all_to_outbox(
        connection, [OutboxEvent(TELEMEDICINE_EVENTS, consult.referral_id, requested)]
    )
    return await page(connection, consult, rung=Rung.ON_CALL, context=context, now=now)


async def _open_paged(
    connection: Connection,
    consult: Consult,
    *,
    context: TelemedicineContext,
    now: datetime,
    supporting: Sequence[Any],
) -> Consult | None:
    """A referral's consult opens paging its on-call rung, which the referral service paged
    already: the consult, its paging step, the page (with an acknowledgement of it that came
    before the consult opened) and its one event in one statement."""
    consult = _paging(consult, rung=Rung.ON_CALL, context=context, now=now)
    step = step_of(consult, at=now)
    # One event, not a request and then its paging step: its Task is in the paging stage
    # since lastModified, and the referral service puts both steps on the referral's timeline,
    # each at its own time (services/referral/adapters/fhir_steps.py, teleconsult_steps).
    # Queued by the same statement, if the consult opened.
    requested_and_paging = fhir_mapping.teleconsult_requested_message(
        consult, source_endpoint=context.source_endpoint, supporting=supporting, step=step
    )
    opened, early = await repository.open_consult_paged(
        connection,
        consult=consult,
        step=step,
        page_request_id=fhir_mapping.page_request_id(consult, Rung.ON_CALL),
        paged=context.ladder.paged(Rung.ON_CALL, hub=consult.consultant_org),
        take_early_acknowledgement=True,
        events=[OutboxEvent(TELEMEDICINE_EVENTS, consult.referral_id, requested_and_paging)],
    )
    if not opened:
        return None  # already open (the same referral announced twice)
    if early is None:
        return consult
    # The on-call consultant acknowledged the page before the consult opened.
    (person,) = early
    return await accept(connection, consult, consultant=person, context=context, now=now)


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
        await _alert_spoke(connection, consult, Notice.STROKE_LEAD_PAGED, context=context)
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
    consult = _paging(consult, rung=rung, context=context, now=now, reason=reason)
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


def _paging(
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


async def escalate_if_overdue(
    connection: Connection, *, consult_id: str, context: TelemedicineContext, now: datetime
) -> Consult | None:
    """The rung paged last had its time: page the next one, or fail to connect after the last.
    None when the consult was answered meanwhile (checked under the row's lock)."""
    consult = await repository.get_consult(connection, consult_id=consult_id, for_update=True)
    if (
        consult is None
        or consult.stage not in AWAITING_CONSULTANT
        or consult.next_deadline is None
        or consult.next_deadline > now
    ):
        return None
    unanswered = context.ladder.unanswered_reason(consult.rung, hub=consult.consultant_org)
    return await _climb(
        connection, consult, reason=unanswered, failure=unanswered, context=context, now=now
    )


async def climb_if_page_unreached(
    connection: Connection, message: FhirMessage, *, context: TelemedicineContext, now: datetime
) -> Consult | None:
    """The notifier reports that a consult's page reached nobody at all (no roster, every
    channel failed): the next rung is paged now, not at its deadline, or after the last the
    consult fails to connect now (the spoke is told). None when the page is not the rung
    waiting for an answer (an older rung's, a repeat, someone accepted) or not ours."""
    request_id = fhir_mapping.unreached_page(message)
    if request_id is None:
        return None
    paged = await repository.page_of(connection, request_id=request_id)
    if paged is None:
        return None  # a page another service sent, or not a page (an alert to the spoke)
    consult_id, paged_rung = paged
    consult = await repository.get_consult(connection, consult_id=consult_id, for_update=True)
    if consult is None or not climbs_when_unreached(consult, paged_rung=paged_rung):
        return None
    return await _climb(
        connection,
        consult,
        reason=NOBODY_REACHED,
        failure=NOBODY_REACHED,
        context=context,
        now=now,
    )


async def _climb(
    connection: Connection,
    consult: Consult,
    *,
    reason: str | None,
    failure: str,
    context: TelemedicineContext,
    now: datetime,
) -> Consult:
    """The next rung paged now (its step's ``reason``), or, after the last, the consult failed
    to connect (``failure``) and the spoke told."""
    following = next_rung(consult.rung)
    if following is None:
        return await fail_to_connect(connection, consult, reason=failure, context=context, now=now)
    return await page(connection, consult, rung=following, context=context, now=now, reason=reason)


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
    await _alert_spoke(connection, consult, Notice.FAILED_TO_CONNECT, context=context, extra=phone)
    return consult


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
        if _first_page_of_unopened_consult(message, request_id):
            # The referral service's page was answered before its referral event reached us:
            # kept, and the consult is accepted by this person as it opens.
            await repository.keep_early_acknowledgement(
                connection, request_id=request_id, person=person, at=now
            )
        return None  # else a page another service sent
    consult = await repository.get_consult(connection, consult_id=consult_id, for_update=True)
    if consult is None or consult.stage not in AWAITING_CONSULTANT:
        return None
    return await accept(connection, consult, consultant=person, context=context, now=now)


def _first_page_of_unopened_consult(message: FhirMessage, request_id: str) -> bool:
    referral_id = fhir_mapping.acknowledged_referral(message)
    return referral_id is not None and request_id == consult_ids.page_request_id(
        consult_ids.referral_consult_id(referral_id), Rung.ON_CALL
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


async def decline(
    connection: Connection,
    consult: Consult,
    *,
    reason: str,
    by: str | None,
    context: TelemedicineContext,
    now: datetime,
) -> Consult:
    """The person paged declines: the next on the ladder is paged at once (or, after the last,
    the consult fails to connect)."""
    declined = consult.moved_to(S.DECLINED, at=now, reason=reason)
    await record(connection, declined, at=now, context=context, actor=by)
    return await _climb(
        connection,
        declined,
        reason=None,
        failure=f"declined: {reason}",
        context=context,
        now=now,
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
        return await accept(connection, consult, consultant=by, context=context, now=now)
    if stage is S.DECLINED:
        return await decline(
            connection, consult, reason=reason or "", by=by, context=context, now=now
        )
    moved = consult.moved_to(stage, at=now, reason=reason)
    await record(connection, moved, at=now, context=context, actor=by)
    return moved


async def _notify(connection: Connection, consult: Consult, message: FhirMessage) -> None:
    await add_to_outbox(
        connection, topic=NOTIFICATION_REQUESTS, key=consult.referral_id, message=message
    )


async def _alert_spoke(
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
