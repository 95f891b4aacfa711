"""A teleconsult's step arrives from telemedicine: it goes on the referral's timeline (with the
alert it may raise, handlers.record_teleconsult_step), then what the consult's advice starts
follows: the transfer referral a signed recommendation chose, the needle the spoke confirmed.
A consult asked before any referral has its steps kept until its advice makes one
(consult_first.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.referral.adapters import fhir_steps
from services.referral.service import (
    confirmed_needle,
    consult_first,
    handlers,
    transfers,
)
from services.referral.service.context import ReferralContext
from shared.db.pool import Connection
from shared.fhir.envelope import FhirMessage


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
