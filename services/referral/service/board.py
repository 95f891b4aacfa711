"""Use cases of the hub board: a person of the receiving hospital acknowledges a referral, or
answers it (accept, decline with a reason) in the name of their hospital, through the same
use case a hospital system's referral-accepted / referral-declined message goes through."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.referral.adapters import board_queries, repository, timeline_repository
from services.referral.domain.commands import ReferralChange
from services.referral.domain.errors import ReferralNotFound
from services.referral.domain.model import Referral
from services.referral.service.context import ReferralContext
from services.referral.service.handlers import change_referral
from shared.db.pool import Connection
from shared.fhir.answered_alerts import AnsweredAlerts, answered_alerts_message
from shared.fhir.codes import EventCode
from shared.messaging.outbox import add_to_outbox
from shared.messaging.topics import NOTIFICATION_REQUESTS
from shared.vocabulary.decline_reasons import DECLINE_REASON_TERMS, DeclineReason

# How the board marks what it wrote: the timeline's source is the hospital, as for its system.
BOARD = "board"


@dataclass(frozen=True, kw_only=True)
class BoardUser:
    """Who acts on the board: a person of one hospital (from the signed-in session)."""

    user_id: str
    display_name: str
    hospital_id: str


async def acknowledge(
    connection: Connection,
    *,
    referral_id: str,
    user: BoardUser,
    now: datetime,
    context: ReferralContext,
) -> bool:
    """The person has seen the referral on the board: recorded once per person, and the first
    time on the referral's timeline (so every open page shows who has seen it). The hospital's
    first acknowledgement also tells the notifier its alerts about the referral are answered,
    so they stop repeating and escalating (as when one is acknowledged by its link). False when
    the person had already acknowledged it.

    Raises ReferralNotFound unless the person's hospital receives the referral (another
    hospital learns nothing, not even that it exists)."""
    referral = await _received_by(connection, referral_id=referral_id, user=user)
    if not await board_queries.add_acknowledgement(
        connection,
        referral_id=referral.id,
        hospital_id=user.hospital_id,
        user_id=user.user_id,
        display_name=user.display_name,
        at=now,
    ):
        return False
    await timeline_repository.add_timeline_entry(
        connection,
        referral_id=referral.id,
        event_code=EventCode.NOTIFICATION_ACKNOWLEDGED.value,
        occurred_at=now,
        source=f"Organization/{user.hospital_id}",
        message_id=None,
        detail={"via": BOARD, "by": user.display_name},
    )
    if await board_queries.acknowledgement_count(connection, referral_id=referral.id) == 1:
        await add_to_outbox(
            connection,
            topic=NOTIFICATION_REQUESTS,
            key=referral.id,
            message=answered_alerts_message(
                AnsweredAlerts(
                    referral_id=referral.id,
                    hospital_id=user.hospital_id,
                    acknowledged_by=user.display_name,
                    at=now,
                ),
                source_endpoint=context.source_endpoint,
            ),
        )
    return True


async def answer(
    connection: Connection,
    *,
    referral_id: str,
    user: BoardUser,
    now: datetime,
    context: ReferralContext,
    decline_reason: DeclineReason | None = None,
) -> Referral:
    """The hub takes the patient (referral-accepted), or with ``decline_reason`` cannot
    (referral-declined, and the network re-routes the patient), as its system would send it.
    Answering is seeing: the board stops highlighting it, and shows who answered."""
    await _received_by(connection, referral_id=referral_id, user=user)
    await acknowledge(connection, referral_id=referral_id, user=user, now=now, context=context)
    change = ReferralChange(
        referral_id=referral_id,
        event=EventCode.REFERRAL_ACCEPTED
        if decline_reason is None
        else EventCode.REFERRAL_DECLINED,
        sender_org=user.hospital_id,
        # The board's own message id, in the id space of the hospital it speaks for.
        message_id=f"{BOARD}-{uuid.uuid4()}",
        task_status=None,
        status_reason=None
        if decline_reason is None
        else DECLINE_REASON_TERMS[decline_reason].english,
        occurred_at=now,
    )
    return await change_referral(connection, change=change, context=context)


async def _received_by(connection: Connection, *, referral_id: str, user: BoardUser) -> Referral:
    referral = await repository.get_referral(connection, referral_id=referral_id)
    if referral is None or referral.owner_org != user.hospital_id:
        raise ReferralNotFound(referral_id)
    return referral
