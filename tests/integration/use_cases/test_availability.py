"""Availability: a hospital reports what is out of service, and routing sends patients elsewhere."""

from __future__ import annotations

import pytest

from services.referral.adapters import repository
from services.referral.domain.errors import InvalidRequest, NotAParty
from services.referral.domain.model import Availability
from services.referral.service.handlers import set_availability
from services.referral.service.intake import request_referral
from shared.db.pool import Connection
from tests.integration.use_cases.support import (
    COMMUNITY,
    CONTEXT,
    FAR_CENTRE,
    NEAR_CENTRE,
    referral_request,
    stored,
)


async def test_a_centre_with_its_ct_down_is_passed_over_by_routing(connection: Connection) -> None:
    reported = await set_availability(
        connection, organization_id=NEAR_CENTRE, sender_org=NEAR_CENTRE, unavailable=["ct-24h"]
    )

    assert reported == Availability(NEAR_CENTRE, frozenset({"ct-24h"}))
    listed = {entry.id: entry for entry in await repository.directory(connection)}
    assert listed[NEAR_CENTRE].unavailable == ("ct-24h",)
    referral_id = await request_referral(
        connection, request=referral_request(owner_org=""), context=CONTEXT
    )
    referral = await stored(connection, referral_id)
    assert referral.owner_org == FAR_CENTRE


@pytest.mark.parametrize(
    ("organization", "sender", "unavailable", "refusal", "reason"),
    [
        (NEAR_CENTRE, COMMUNITY, ["ct-24h"], NotAParty, "only its own availability"),
        (NEAR_CENTRE, NEAR_CENTRE, ["helipad"], InvalidRequest, "Unknown capabilities"),
        ("uc-unknown", "uc-unknown", [], InvalidRequest, "Unknown organization"),
    ],
    ids=["another hospital's", "unknown capability", "unknown hospital"],
)
async def test_an_availability_report_the_network_cannot_take_is_refused(
    connection: Connection,
    organization: str,
    sender: str,
    unavailable: list[str],
    refusal: type[Exception],
    reason: str,
) -> None:
    with pytest.raises(refusal, match=reason):
        await set_availability(
            connection, organization_id=organization, sender_org=sender, unavailable=unavailable
        )

    listed = {entry.id: entry for entry in await repository.directory(connection)}
    assert listed[NEAR_CENTRE].unavailable == ()
