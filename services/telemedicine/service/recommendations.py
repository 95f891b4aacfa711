"""Signing a consult's recommendation: the consultant's first signature moves the consult to
recommended; each later one is an amendment, the next version beside the earlier ones. Every
version goes back to the referral as a teleconsult-recommended message."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.telemedicine.adapters import (
    recommendation_fhir,
    recommendation_store,
    repository,
)
from services.telemedicine.adapters.recommendation_json import recommendation_json
from services.telemedicine.domain.errors import ConsultNotFound, NotTheirStep
from services.telemedicine.domain.model import step_of
from services.telemedicine.domain.recommendation import Recommendation
from services.telemedicine.service.consult_steps import record
from services.telemedicine.service.context import TelemedicineContext
from shared.db.pool import Connection
from shared.errors import RuleBroken
from shared.messaging.outbox import add_to_outbox
from shared.messaging.topics import TELEMEDICINE_EVENTS
from shared.workflow.consult_state import ConsultStage

S = ConsultStage
# Stages from which the consultant may sign (the first version), and the amendable one.
_SIGNABLE = frozenset({S.ACCEPTED, S.IN_VIDEO, S.RECOMMENDATION_PENDING, S.RECOMMENDED})


class NotSignable(RuleBroken):
    def __init__(self, stage: str) -> None:
        super().__init__(f"A recommendation cannot be signed while the consult is {stage!r}")


async def sign(
    connection: Connection,
    *,
    consult_id: str,
    party: str,
    write: Callable[[int], Recommendation],
    context: TelemedicineContext,
    now: datetime,
) -> Recommendation:
    """``write(version)`` builds the recommendation (refusing it when it breaks a rule) once the
    consult is known to be the caller's to sign, under the consult's row lock."""
    consult = await repository.get_consult(
        connection, consult_id=consult_id, party=party, for_update=True
    )
    if consult is None:
        raise ConsultNotFound(consult_id)
    if party != consult.consultant_org:
        raise NotTheirStep("recommended")
    if consult.stage not in _SIGNABLE:
        raise NotSignable(consult.stage.value)
    version = await recommendation_store.latest_version(connection, consult_id=consult_id) + 1
    recommendation = write(version)
    await recommendation_store.insert_version(
        connection,
        consult_id=consult_id,
        version=version,
        body=recommendation_json(recommendation),
    )
    if consult.stage is not S.RECOMMENDATION_PENDING and consult.stage is not S.RECOMMENDED:
        consult = consult.moved_to(S.RECOMMENDATION_PENDING, at=now)
        await record(connection, consult, at=now, context=context, actor=recommendation.signed_by)
    if consult.stage is S.RECOMMENDATION_PENDING:
        # Its event is the teleconsult-recommended message below, which carries the advice.
        consult = consult.moved_to(S.RECOMMENDED, at=now)
        await repository.save_consult(
            connection,
            consult=consult,
            step=step_of(consult, at=now, actor=recommendation.signed_by),
        )
    await add_to_outbox(
        connection,
        topic=TELEMEDICINE_EVENTS,
        key=consult.referral_id,
        message=recommendation_fhir.recommendation_message(
            consult, recommendation, source_endpoint=context.source_endpoint
        ),
    )
    return recommendation
