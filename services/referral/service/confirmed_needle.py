"""The spoke confirmed, on its view of the consult, that the recommended thrombolysis was
started: the needle milestone is recorded at the spoke, at the time confirmed and in the name of
the person who confirmed it, through the same use case as the referral page's needle button."""

from __future__ import annotations

import re
from datetime import datetime

from services.referral.adapters import accounts_repository, repository
from services.referral.domain.commands import ClinicalTime, RecordStep
from services.referral.domain.errors import InvalidReferral
from services.referral.service.context import ReferralContext
from services.referral.service.milestone_entry import record_by_person
from shared.db.pool import Connection
from shared.fhir.codes import EventCode

# How telemedicine names a person of the web app (the id of their signed identity).
APP_USER = re.compile(r"app-user/(\d{1,18})")


def confirmed_needle(step: RecordStep) -> tuple[datetime, str] | None:
    """(needle time, who confirmed it) when ``step`` is the spoke's confirmation."""
    if step.event is not EventCode.TELECONSULT_UPDATED:
        return None
    outputs = step.detail.get("recommendation")
    if not isinstance(outputs, dict) or not outputs.get("needle"):
        return None
    try:
        needle_at = datetime.fromisoformat(str(outputs["needle"]))
    except ValueError:
        return None
    return needle_at, str(outputs.get("needle-confirmed-by") or "")


async def record_confirmed_needle(
    connection: Connection, *, step: RecordStep, context: ReferralContext, now: datetime
) -> bool:
    """Records the needle ``step`` confirms; False when it is no confirmation, or the spoke's
    needle is already recorded (a time once set changes only with a reason, on the page)."""
    confirmation = confirmed_needle(step)
    if confirmation is None:  # nearly every step: no reading of the referral for it
        return False
    referral = await repository.get_referral(connection, referral_id=step.referral_id)
    if referral is None:
        return False
    needle_at, person = confirmation
    signed_in = APP_USER.fullmatch(person)
    if signed_in is not None:  # a person of the web app, confirming on the consult page
        named = await accounts_repository.name_of_person(
            connection, user_id=int(signed_in[1]), hospital_id=referral.requester_org
        )
        person = named or person
    try:
        async with connection.transaction():  # a savepoint: a refusal leaves the step recorded
            await record_by_person(
                connection,
                referral_id=referral.id,
                kind=ClinicalTime.NEEDLE,
                hospital=referral.requester_org,
                person=person,
                now=now,
                occurred_at=needle_at,
                context=context,
            )
    except InvalidReferral:
        return False
    return True
