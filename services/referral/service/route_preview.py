"""Where the network would send a patient, and why, before the referring clinician sends the
referral: the same routing advice intake gives (service/intake.py ``advise``), stored nowhere."""

from __future__ import annotations

from services.referral.domain.commands import RequestReferral
from services.referral.domain.routing import RoutingDecision
from services.referral.service.context import ReferralContext
from services.referral.service.intake import advise
from shared.db.pool import Connection


async def preview_route(
    connection: Connection, *, request: RequestReferral, context: ReferralContext
) -> RoutingDecision:
    """The routing decision for ``request`` now; raises InvalidReferral for an unknown
    referring hospital. Reads the directory only."""
    return await advise(connection, request=request, travel=context.travel)
