"""A teleconsult's step arrives from telemedicine: it goes on the referral's timeline (with the
alert it may raise, handlers.record_teleconsult_step), then what the consult's advice starts
follows: the transfer referral a signed recommendation chose, the needle the spoke confirmed.
A consult asked before any referral has its steps kept until its advice makes one
(consult_first.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.referral.adapters import fhir_steps
from services.referral.service import confirmed_needle, consult_first, handlers, transfers
from services.referral.service.context import ReferralContext
from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage
from shared.messaging.inbox import Claim, InboxEntry, claim_message


async def record_consult_step(
    connection: Connection, message: FhirMessage, *, context: ReferralContext
) -> None:
    if fhir_steps.about_an_episode(message):
        return  # a home-isolation episode's consult: no referral's timeline
    now = datetime.now(UTC)
    referral_id = None
    first = fhir_steps.asked_first(message)
    if first is not None:
        referral_id = await consult_first.file_step(
            connection, message, consult_id=first, context=context, now=now
        )
        if referral_id is None:
            return  # kept until the consult's advice makes a referral (or just made it)
    step = await handlers.record_teleconsult_step(
        connection, message, context=context, referral_id=referral_id
    )
    await transfers.start_recommended_transfer(connection, step=step, context=context, now=now)
    await confirmed_needle.record_confirmed_needle(connection, step=step, context=context, now=now)


async def record_consult_step_in_one_statement(
    connection: Connection, inbox: InboxEntry
) -> Claim | None:
    """``record_consult_step`` as one statement with the message's inbox claim (its
    ``OneStatementHandler``), for a step that starts nothing: None, with nothing written, for a
    consult asked first, a recommendation to transfer, a confirmed needle, or a consult paged
    once the door-in is known (the late-consult alert): those go in a transaction."""
    message = inbox.message
    if fhir_steps.about_an_episode(message):  # no referral's timeline: the claim alone
        return await claim_message(
            connection, message=message, topic=inbox.topic, digest=inbox.digest
        )
    if fhir_steps.asked_first(message) is not None:
        return None
    steps = fhir_steps.teleconsult_steps(message)
    last = steps[-1]
    if (
        transfers.recommended_centre(last) is not None
        or confirmed_needle.confirmed_needle(last) is not None
    ):
        return None
    return await handlers.record_claimed_steps(
        connection,
        steps=steps,
        inbox=inbox,
        unless_door_in=steps[0].event is EventCode.TELECONSULT_REQUESTED,
    )
