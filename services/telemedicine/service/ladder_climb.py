"""The consult ladder's climb: when the rung paged last does not answer (its deadline passed,
its page reached nobody at all, or the person declined), the next rung is paged now, or after
the last the consult fails to connect and the spoke is told."""

from __future__ import annotations

from datetime import datetime

from services.telemedicine.adapters import early_page_outcomes, fhir_mapping, repository
from services.telemedicine.domain.escalation import (
    NOBODY_REACHED,
    ConnectFailure,
    climbs_when_unreached,
    first_page_of_referral_consult,
    next_rung,
)
from services.telemedicine.domain.model import Consult
from services.telemedicine.service import consult_steps
from services.telemedicine.service.context import TelemedicineContext
from shared.db.pool import Connection
from shared.fhir.envelope import FhirMessage
from shared.workflow.consult_state import AWAITING_CONSULTANT, ConsultStage

S = ConsultStage


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
    return await climb(
        connection,
        consult,
        reason=unanswered,
        failure=unanswered,
        why=ConnectFailure.NOT_ANSWERED,
        context=context,
        now=now,
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
        referral_id = fhir_mapping.unreached_referral(message)
        if first_page_of_referral_consult(request_id, referral_id=referral_id):
            # The referral service's page reached nobody before its referral event reached us:
            # kept, and the consult climbs as it opens (consult_opening).
            await early_page_outcomes.keep_early_unreached_page(
                connection, request_id=request_id, at=now
            )
        return None  # else a page another service sent, or an alert to the spoke
    consult_id, paged_rung = paged
    consult = await repository.get_consult(connection, consult_id=consult_id, for_update=True)
    if consult is None or not climbs_when_unreached(consult, paged_rung=paged_rung):
        return None
    return await climb_unreached(connection, consult, context=context, now=now)


async def climb_unreached(
    connection: Connection, consult: Consult, *, context: TelemedicineContext, now: datetime
) -> Consult:
    """The page of the rung waiting for an answer reached nobody at all: the next rung paged
    now, or after the last the consult failed to connect now."""
    return await climb(
        connection,
        consult,
        reason=NOBODY_REACHED,
        failure=NOBODY_REACHED,
        why=ConnectFailure.NOBODY_REACHED,
        context=context,
        now=now,
    )


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
    await consult_steps.record(connection, declined, at=now, context=context, actor=by)
    return await climb(
        connection,
        declined,
        reason=None,
        failure=f"declined: {reason}",
        why=ConnectFailure.DECLINED,
        context=context,
        now=now,
    )


async def climb(
    connection: Connection,
    consult: Consult,
    *,
    reason: str | None,
    failure: str,
    why: ConnectFailure,
    context: TelemedicineContext,
    now: datetime,
) -> Consult:
    """The next rung paged now (its step's ``reason``), or, after the last, the consult failed
    to connect (``failure``) and the spoke told ``why`` and whom to call."""
    following = next_rung(consult.rung)
    if following is None:
        return await consult_steps.fail_to_connect(
            connection, consult, reason=failure, why=why, context=context, now=now
        )
    return await consult_steps.page(
        connection, consult, rung=following, context=context, now=now, reason=reason
    )
