"""One rule names the milestones of a patient's clock, whether the times come with the referral
or with a later change: a door-out at the first hospital is its door-out, one at the receiving
hospital is no stroke milestone, and the transfer's departure stamps the first door-out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.referral.domain.commands import (
    ClinicalTime,
    ReferralChange,
    ReportedTime,
    RequestReferral,
)
from services.referral.domain.milestone_naming import milestones_of, milestones_of_request
from services.referral.domain.model import Referral
from shared.fhir.codes import EventCode
from shared.vocabulary.milestones import MilestoneCode
from shared.workflow.task_state import TaskStatus

M = MilestoneCode
K = ClinicalTime
T0 = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
SPOKE, HUB = "sikao", "trang"


def time(kind: ClinicalTime, minutes: int, hospital: str | None) -> ReportedTime:
    return ReportedTime(kind=kind, occurred_at=T0 + timedelta(minutes=minutes), hospital=hospital)


def request(*times: ReportedTime) -> RequestReferral:
    return RequestReferral(
        referral_id="r1",
        request_message_id="m1",
        requester_org=SPOKE,
        owner_org=HUB,
        patient_hn="HN1",
        requested_at=T0 + timedelta(minutes=30),
        reported_times=times,
    )


REFERRAL = Referral(
    id="r1",
    status=TaskStatus.ACCEPTED,
    requester_org=SPOKE,
    owner_org=HUB,
    patient_hn="HN1",
    last_known_well=None,
    nihss=None,
    suspected_lvo=None,
    teleconsult_requested=False,
    created_at=T0,
)


def change(sender: str, event: EventCode, *times: ReportedTime) -> ReferralChange:
    return ReferralChange(
        referral_id="r1",
        event=event,
        sender_org=sender,
        message_id="m2",
        task_status=None,
        status_reason=None,
        occurred_at=T0 + timedelta(minutes=90),
        reported_times=times,
    )


# (reported time, who reports it, the milestone it is: the same whichever message carries it)
CASES = [
    pytest.param(time(K.DOOR_IN, 0, None), SPOKE, M.DOOR_IN_FIRST, id="door-in-at-the-spoke"),
    pytest.param(time(K.DOOR_OUT, 80, None), SPOKE, M.DOOR_OUT_FIRST, id="door-out-at-the-spoke"),
    pytest.param(
        time(K.DOOR_OUT, 80, SPOKE), HUB, M.DOOR_OUT_FIRST, id="spoke-door-out-reported-by-hub"
    ),
    pytest.param(time(K.DOOR_OUT, 80, HUB), HUB, None, id="door-out-at-the-hub-is-no-milestone"),
    pytest.param(time(K.DOOR_OUT, 80, HUB), SPOKE, None, id="hub-door-out-reported-by-spoke"),
    pytest.param(time(K.DOOR_IN, 120, HUB), SPOKE, M.DOOR_IN_RECEIVING, id="door-in-at-the-hub"),
    pytest.param(time(K.NEEDLE, 40, None), SPOKE, M.NEEDLE, id="needle-anywhere"),
    pytest.param(time(K.LAST_KNOWN_WELL, -60, None), SPOKE, M.LAST_KNOWN_WELL, id="lkw-anywhere"),
]


@pytest.mark.parametrize(("reported", "sender", "expected"), CASES)
def test_a_reported_time_is_the_same_milestone_in_a_referral_and_in_a_later_change(
    reported: ReportedTime, sender: str, expected: MilestoneCode | None
) -> None:
    with_change = [
        code
        for code, _ in milestones_of(REFERRAL, change(sender, EventCode.CLINICAL_UPDATE, reported))
    ]
    assert with_change == ([expected] if expected else [])
    if sender == SPOKE:  # only the referring hospital sends the referral itself
        with_request = [code for code, _ in milestones_of_request(request(reported))]
        assert with_request == [M.REFERRAL_REQUESTED, *([expected] if expected else [])]


def test_the_transfer_departing_stamps_the_first_hospitals_door_out_at_its_time() -> None:
    found = milestones_of(REFERRAL, change(SPOKE, EventCode.TRANSFER_DEPARTED))
    assert [(code, reported.occurred_at) for code, reported in found] == [
        (M.DOOR_OUT_FIRST, T0 + timedelta(minutes=90))
    ]


def test_a_new_referral_puts_its_request_and_last_known_well_on_the_clock() -> None:
    lkw = T0 - timedelta(hours=1)
    found = milestones_of_request(replace(request(), last_known_well=lkw, lkw_uncertain=True))
    assert [(code, r.occurred_at, r.uncertain) for code, r in found] == [
        (M.REFERRAL_REQUESTED, T0 + timedelta(minutes=30), False),
        (M.LAST_KNOWN_WELL, lkw, True),
    ]
