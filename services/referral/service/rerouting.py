"""Automatic re-routing: when a hospital declines, or does not answer by its accept-by deadline,
a new referral to the next candidate replaces the old one; both are linked and both sides told.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from services.referral.adapters import (
    fhir_mapping,
    notification_texts,
    repository,
    timeline_repository,
)
from services.referral.domain.model import Referral
from services.referral.service.context import ReferralContext
from services.referral.service.intake import advise, request_referral
from services.referral.service.patient_request import further_request
from shared.db.pool import Connection
from shared.fhir.codes import NETWORK_ORGANIZATION, EventCode
from shared.fhir.ids import suffixed_id
from shared.messaging.outbox import add_to_outbox
from shared.messaging.topics import NOTIFICATION_REQUESTS, REFERRAL_EVENTS
from shared.workflow.task_state import TaskStatus, transition

DEADLINE_REASON = "not accepted by its deadline"


async def reroute(
    connection: Connection,
    *,
    referral: Referral,
    reason: str,
    context: ReferralContext,
    now: datetime,
    destination: str | None = None,
) -> Referral | None:
    """Replaces ``referral`` (already declined or cancelled) by a new referral to
    ``destination`` (a hospital's redirect) or else to the next routing candidate; returns it,
    or None when no other hospital can take the patient."""
    chain = await repository.chain_of(connection, referral_id=referral.id)
    tried = [owner for _, owner in chain]
    first_id = chain[-1][0]
    request = await further_request(
        connection,
        referral,
        # "<first id>.r<n>", readable as "the n-th re-route"; shortened with a hash when the
        # first id is too long for it to stay a FHIR id (64 characters).
        referral_id=suffixed_id(first_id, f".r{len(tried)}"),
        request_message_id=f"reroute:{referral.id}",
        owner_org="",
        requested_at=now,
        replaces=referral.id,
        teleconsult_requested=referral.teleconsult_requested,
    )
    if destination is None:
        decision = await advise(
            connection, request=request, travel=context.travel, excluded=frozenset(tried)
        )
        destination = decision.destination_id
    if destination is None or destination == referral.requester_org:
        await _tell_requester(connection, referral, reason, None, referral.id, context)
        await timeline_repository.add_timeline_entry(
            connection,
            referral_id=referral.id,
            event_code=EventCode.REFERRAL_REDIRECTED.value,
            occurred_at=now,
            source=NETWORK_ORGANIZATION,
            message_id=None,
            detail={"reason": reason, "outcome": "no other hospital can take the patient"},
        )
        return None
    new_id = await request_referral(
        connection, request=replace(request, owner_org=destination), context=context
    )
    await repository.link_replacement(connection, old_id=referral.id, new_id=new_id)
    replacement = await repository.get_referral(connection, referral_id=new_id)
    if replacement is None:
        raise LookupError(f"replacement referral {new_id} is missing right after it was stored")
    detail = {"reason": reason, "from": referral.owner_org, "to": destination}
    for referral_id in (referral.id, new_id):
        await timeline_repository.add_timeline_entry(
            connection,
            referral_id=referral_id,
            event_code=EventCode.REFERRAL_REDIRECTED.value,
            occurred_at=now,
            source=NETWORK_ORGANIZATION,
            message_id=None,
            detail={**detail, "replaces": referral.id, "replaced_by": new_id},
        )
    await add_to_outbox(
        connection,
        topic=REFERRAL_EVENTS,
        key=referral.id,
        message=fhir_mapping.redirected_message(
            referral, replacement, reason=reason, source_endpoint=context.source_endpoint
        ),
    )
    # The new hospital is told by its stroke alert (intake); the referring one here.
    await _tell_requester(connection, referral, reason, destination, new_id, context)
    return replacement


async def _tell_requester(
    connection: Connection,
    referral: Referral,
    why: str,
    destination: str | None,
    link_to: str,
    context: ReferralContext,
) -> None:
    """Where the patient now goes (None: nowhere), with the link to ``link_to``."""
    await add_to_outbox(
        connection,
        topic=NOTIFICATION_REQUESTS,
        key=referral.id,
        message=notification_texts.rerouted_notice(
            referral,
            why=why,
            destination=destination,
            referral_url=context.referral_url(link_to),
            source_endpoint=context.source_endpoint,
        ),
    )


async def reroute_if_overdue(
    connection: Connection, *, referral_id: str, context: ReferralContext, now: datetime
) -> bool:
    """Cancels and re-routes ``referral_id`` if it is still past its accept-by deadline and no
    other instance holds it (a row lock, inside the caller's transaction)."""
    overdue = await repository.lock_if_overdue(connection, referral_id=referral_id, now=now)
    if overdue is None:
        return False
    status = transition(overdue.status, TaskStatus.CANCELLED, status_reason=DEADLINE_REASON)
    await repository.update_status(connection, referral_id=overdue.id, status=status)
    await timeline_repository.add_timeline_entry(
        connection,
        referral_id=overdue.id,
        event_code=EventCode.REFERRAL_CANCELLED.value,
        occurred_at=now,
        source=NETWORK_ORGANIZATION,
        message_id=None,
        detail={"status": status.value, "reason": DEADLINE_REASON},
    )
    await reroute(
        connection,
        referral=replace(overdue, status=status),
        reason=DEADLINE_REASON,
        context=context,
        now=now,
    )
    return True
