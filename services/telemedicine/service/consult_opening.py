"""Opening a consult: a referral's that asks for one (in one statement with its message's inbox
claim when it can be), a home-isolation episode's red flag's, or one asked first. The
hub's on-call consultant is the ladder's first rung."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from services.telemedicine.adapters import fhir_mapping, repository
from services.telemedicine.domain.escalation import Rung
from services.telemedicine.domain.model import Consult, step_of
from services.telemedicine.service import consult_steps, ladder_climb
from services.telemedicine.service.context import TelemedicineContext
from shared.db.pool import Connection
from shared.fhir.envelope import FhirMessage
from shared.messaging.inbox import Claim, InboxEntry, claim_message
from shared.messaging.outbox import OutboxEvent, add_all_to_outbox
from shared.messaging.topics import TELEMEDICINE_EVENTS


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
    first page that came before it (the consult is accepted as it opens) or a final failure of
    that page (nobody reached: the consult climbs as it opens)."""
    message = inbox.message
    links = fhir_mapping.referral_task_links(message)
    if links is not None and any(based_on.startswith("Task/") for based_on in links[1]):
        return None
    parties = fhir_mapping.referral_parties(message)
    if parties is None:  # no teleconsult asked: the claim is the message's whole effect
        return await claim_message(
            connection, message=message, topic=inbox.topic, digest=inbox.digest
        )
    consult = consult_steps.paging(
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
    return await consult_steps.page(
        connection, consult, rung=Rung.ON_CALL, context=context, now=now
    )


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
    consult = consult_steps.paging(consult, rung=Rung.ON_CALL, context=context, now=now)
    step = step_of(consult, at=now)
    # One event, not a request and then its paging step: its Task is in the paging stage
    # since lastModified, and the referral service puts both steps on the referral's timeline,
    # each at its own time (services/referral/adapters/fhir_steps.py, teleconsult_steps).
    # Queued by the same statement, if the consult opened.
    requested_and_paging = fhir_mapping.teleconsult_requested_message(
        consult, source_endpoint=context.source_endpoint, supporting=supporting, step=step
    )
    opening = await repository.open_consult_paged(
        connection,
        consult=consult,
        step=step,
        page_request_id=fhir_mapping.page_request_id(consult, Rung.ON_CALL),
        paged=context.ladder.paged(Rung.ON_CALL, hub=consult.consultant_org),
        take_early_page_outcomes=True,
        events=[OutboxEvent(TELEMEDICINE_EVENTS, consult.referral_id, requested_and_paging)],
    )
    if not opening.opened:
        return None  # already open (the same referral announced twice)
    if opening.acknowledged_by is not None:
        # The on-call consultant acknowledged the page before the consult opened.
        (person,) = opening.acknowledged_by
        return await consult_steps.accept(
            connection, consult, consultant=person, context=context, now=now
        )
    if opening.unreached:
        # The page reached nobody at all before the consult opened: the next rung now.
        return await ladder_climb.climb_unreached(connection, consult, context=context, now=now)
    return consult
