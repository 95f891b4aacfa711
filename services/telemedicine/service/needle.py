"""The spoke confirms the thrombolysis the consultant recommended: the needle went in. The
confirmation goes back to the referral (a teleconsult-updated naming the needle time and who
confirmed it), where the referral service records the needle milestone on the patient's clock.
Nothing is stored here: the needle is the referral's milestone, kept once, there."""

from __future__ import annotations

from datetime import datetime

from services.telemedicine.adapters import recommendation_fhir, recommendation_store, repository
from services.telemedicine.domain.errors import ConsultNotFound, NotTheirStep
from services.telemedicine.service.context import TelemedicineContext
from shared.db.pool import Connection
from shared.errors import InvalidInput, RuleBroken
from shared.messaging.outbox import add_to_outbox
from shared.messaging.topics import TELEMEDICINE_EVENTS
from shared.workflow.consult_state import ConsultStage

# A phone's clock a little ahead of ours is fine; further ahead is a typing error.
FUTURE_ALLOWANCE_S = 300


class NoThrombolysisRecommended(RuleBroken):
    def __init__(self) -> None:
        super().__init__("The latest signed recommendation does not advise thrombolysis")


async def confirm_needle(
    connection: Connection,
    *,
    consult_id: str,
    party: str,
    person: str,
    at: datetime,
    context: TelemedicineContext,
    now: datetime,
) -> datetime:
    """``person`` of ``party`` (the spoke) confirms the needle at ``at``. Refused unless the
    consult's latest signed version advises giving thrombolysis."""
    consult = await repository.get_consult(connection, consult_id=consult_id, party=party)
    if consult is None:
        raise ConsultNotFound(consult_id)
    if party != consult.requester_org:
        raise NotTheirStep("needle")
    if at.tzinfo is None:
        raise InvalidInput("The needle time needs a time zone", expression="at")
    if (at - now).total_seconds() > FUTURE_ALLOWANCE_S:
        raise InvalidInput("The needle time is in the future", expression="at")
    versions = await recommendation_store.versions(connection, consult_id=consult_id)
    if consult.stage is not ConsultStage.RECOMMENDED or not versions:
        raise NoThrombolysisRecommended()
    latest = versions[-1]
    if latest.get("decision") != "give":
        raise NoThrombolysisRecommended()
    await add_to_outbox(
        connection,
        topic=TELEMEDICINE_EVENTS,
        key=consult.referral_id,
        message=recommendation_fhir.needle_confirmed_message(
            consult,
            version=int(latest["version"]),
            needle_at=at,
            confirmed_by=person,
            source_endpoint=context.source_endpoint,
            now=now,
        ),
    )
    return at
