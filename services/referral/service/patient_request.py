"""The request for a further referral of a patient already referred (a re-route, a transfer the
teleconsult advised): the same spoke and hospital number, the last known well and how sure it
is, the findings, and the patient's times so far for the new hospital."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from services.referral.adapters import directory
from services.referral.adapters.clinical_resources import reported_from_clock
from services.referral.domain.clock import Clock
from services.referral.domain.commands import RequestReferral
from services.referral.domain.model import Referral
from services.referral.service.patient_clock import patient_milestones
from shared.db.pool import Connection
from shared.vocabulary.milestones import MilestoneCode


async def further_request(
    connection: Connection,
    referral: Referral,
    *,
    referral_id: str,
    request_message_id: str,
    owner_org: str,
    requested_at: datetime,
    replaces: str | None = None,
    continues: str | None = None,
    suspected_lvo: bool | None = None,
    teleconsult_requested: bool = False,
) -> RequestReferral:
    """``replaces``: the referral it re-routes; ``continues``: the one it carries on."""
    clock = Clock(await patient_milestones(connection, referral_id=referral.id))
    lkw = clock.get(MilestoneCode.LAST_KNOWN_WELL)
    request = RequestReferral(
        referral_id=referral_id,
        request_message_id=request_message_id,
        requester_org=referral.requester_org,
        owner_org=owner_org,
        patient_hn=referral.patient_hn,
        patient_hn_system=(await directory.patient_identifier_systems(connection)).get(
            referral.requester_org
        ),
        last_known_well=referral.last_known_well,
        # The new hospital is told how sure the LKW is, as the first one was.
        lkw_source=lkw.source.value if lkw else "recorded",
        lkw_uncertain=lkw.doubtful if lkw else False,
        nihss=referral.nihss,
        suspected_lvo=referral.suspected_lvo,
        teleconsult_requested=teleconsult_requested,
        requested_at=requested_at,
        replaces=replaces,
        continues=continues,
        # The new hospital learns the patient's times so far (door-in, CT, needle ...).
        reported_times=reported_from_clock(clock.milestones),
    )
    return request if suspected_lvo is None else replace(request, suspected_lvo=suspected_lvo)
