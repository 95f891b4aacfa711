"""A signed teleconsult recommendation to transfer the patient for thrombectomy starts the
transfer referral to the chosen centre: a referral from the spoke (where the patient is) to the
centre, through the same intake as any referral (routing advice, timeline, the centre's stroke
alert, the event for the network), on the patient's clock, linked on both timelines to the
referral and the consult that asked for it."""

from __future__ import annotations

from datetime import datetime

from services.referral.adapters import repository, timeline_repository
from services.referral.domain.commands import RecordStep
from services.referral.domain.errors import InvalidReferral
from services.referral.service.context import ReferralContext
from services.referral.service.intake import request_referral
from services.referral.service.patient_request import further_request
from shared.db.pool import Connection
from shared.fhir.codes import NETWORK_ORGANIZATION, EventCode
from shared.fhir.ids import derived_id

ORGANIZATION = "Organization/"


def recommended_centre(step: RecordStep) -> str | None:
    """The thrombectomy centre a signed recommendation sends the patient to, if it does."""
    if step.event is not EventCode.TELECONSULT_RECOMMENDED:
        return None
    advice = step.detail.get("recommendation")
    if not isinstance(advice, dict) or advice.get("thrombectomy-transfer") is not True:
        return None
    centre = str(advice.get("target-centre") or "")
    return centre.removeprefix(ORGANIZATION) or None


async def start_recommended_transfer(
    connection: Connection, *, step: RecordStep, context: ReferralContext, now: datetime
) -> str | None:
    """The transfer referral ``step`` (a teleconsult-recommended) asks for: its id, or None when
    the recommendation transfers nobody or the patient is already referred to that centre.
    The same recommendation again (a redelivery, or an amendment to the same centre) finds the
    referral it started. A transfer the network cannot start (an unknown centre) is put on the
    timeline with the reason: the recommendation itself is never lost for it."""
    centre = recommended_centre(step)
    if centre is None:
        return None
    referral = await repository.get_referral(connection, referral_id=step.referral_id)
    if referral is None or centre == referral.owner_org:
        return None  # the patient is already referred to the centre advised
    consult = str(step.detail.get("consult") or "")
    request = await further_request(
        connection,
        referral,
        referral_id=derived_id("tx-", f"{referral.id}.{centre}"),
        # One transfer per consult and centre, however often the advice is signed again.
        request_message_id=f"transfer:{consult}:{centre}",
        owner_org=centre,
        requested_at=now,
        continues=referral.id,
        suspected_lvo=True,  # the consultant advises thrombectomy
    )
    link = {"transfer_of": referral.id, "consult": consult, "to": centre}
    try:
        async with connection.transaction():  # a savepoint: a refusal undoes only the transfer
            transfer_id = await request_referral(connection, request=request, context=context)
    except InvalidReferral as refused:
        await _link(connection, referral.id, {**link, "outcome": f"not started: {refused}"}, now)
        return None
    if not await _already_linked(connection, referral_id=referral.id, transfer_id=transfer_id):
        await _link(connection, referral.id, {**link, "transfer": transfer_id}, now)
    return transfer_id


async def _link(
    connection: Connection, referral_id: str, detail: dict[str, object], at: datetime
) -> None:
    """The transfer (or why it did not start) on the first referral's timeline."""
    await timeline_repository.add_timeline_entry(
        connection,
        referral_id=referral_id,
        event_code=EventCode.TRANSFER_REQUESTED.value,
        occurred_at=at,
        source=NETWORK_ORGANIZATION,
        message_id=None,
        detail=detail,
    )


async def _already_linked(connection: Connection, *, referral_id: str, transfer_id: str) -> bool:
    return any(
        entry.event_code == EventCode.TRANSFER_REQUESTED.value
        and entry.detail.get("transfer") == transfer_id
        for entry in await timeline_repository.timeline(connection, referral_id=referral_id)
    )
