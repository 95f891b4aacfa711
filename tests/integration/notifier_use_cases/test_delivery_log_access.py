"""A referral's delivery log is read by its hospitals as the notifier knows them (the one that
asked for the alert, the ones alerted) and by operators; any other hospital reads nothing: the
scope is in the query itself."""

from __future__ import annotations

import pytest

from services.notifier.adapters import delivery_views, operator_access
from shared.db.pool import Connection
from tests.integration.notifier_use_cases.support import HOSPITAL, OTHER_HOSPITAL, alert_queued

THIRD_HOSPITAL = "uc-elsewhere"


@pytest.mark.parametrize(
    ("reader", "sees"),
    [
        (HOSPITAL, True),  # alerted
        (OTHER_HOSPITAL, True),  # asked for the alert (the message's sender), never alerted
        (None, True),  # an operator
        (THIRD_HOSPITAL, False),
    ],
    ids=["the hospital alerted", "the hospital that referred", "an operator", "a third one"],
)
async def test_the_delivery_log_is_read_only_by_the_referrals_hospitals_and_operators(
    connection: Connection, reader: str | None, sees: bool
) -> None:
    referral_id = await alert_queued(connection)
    log = await delivery_views.deliveries_for_referral(
        connection, referral_id=referral_id, hospital=reader
    )
    everything = await delivery_views.deliveries_for_referral(
        connection, referral_id=referral_id, hospital=None
    )
    assert everything  # the alert's deliveries are there
    assert log == (everything if sees else [])
    assert await operator_access.referral_known(connection, referral_id=referral_id)


async def test_a_referral_the_notifier_never_heard_of_is_unknown(connection: Connection) -> None:
    assert not await operator_access.referral_known(connection, referral_id="uc-ref-never")
