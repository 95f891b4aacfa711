"""A teleconsult's step arrives from telemedicine: it goes on the referral's timeline (with the
alert it may raise, handlers.record_teleconsult_step), then what the consult's advice starts
follows: the transfer referral a signed recommendation chose, the needle the spoke confirmed."""

from __future__ import annotations

from datetime import UTC, datetime

from services.referral.adapters import fhir_steps
from services.referral.service import confirmed_needle, handlers, transfers
from services.referral.service.context import ReferralContext
from shared.db.pool import Connection
from shared.fhir.envelope import FhirMessage


async def record_consult_step(
    connection: Connection, message: FhirMessage, *, context: ReferralContext
) -> None:
    if fhir_steps.about_an_episode(message):
        return  # a home-isolation episode's consult: no referral's timeline
    step = await handlers.record_teleconsult_step(connection, message, context=context)
    now = datetime.now(UTC)
    await transfers.start_recommended_transfer(connection, step=step, context=context, now=now)
    await confirmed_needle.record_confirmed_needle(connection, step=step, context=context, now=now)
