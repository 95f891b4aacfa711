"""Who may send which lifecycle event, and what it does to the referral (lifecycle.apply),
checked against a table written out by hand, for every event and every kind of sender."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest

from services.referral.domain import lifecycle
from services.referral.domain.commands import ReferralChange
from services.referral.domain.errors import InvalidReferral, NotAParty
from services.referral.domain.model import Referral
from shared.fhir.codes import EventCode
from shared.workflow.task_state import REASON_REQUIRED, TaskStatus, TransitionRefused

E, S = EventCode, TaskStatus
REQUESTER, OWNER, STRANGER = "community-hospital", "stroke-centre", "other-hospital"
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

# Written out apart from the module: (who may send it, the status it gives, from which status
# the test sends it). None as the status: the event records a step, Task.status stays.
EXPECTED: dict[EventCode, tuple[frozenset[str], TaskStatus | None, TaskStatus]] = {
    E.REFERRAL_RECEIVED: (frozenset({OWNER}), S.RECEIVED, S.REQUESTED),
    E.REFERRAL_ACCEPTED: (frozenset({OWNER}), S.ACCEPTED, S.REQUESTED),
    E.REFERRAL_DECLINED: (frozenset({OWNER}), S.REJECTED, S.RECEIVED),
    E.REFERRAL_REDIRECTED: (frozenset({OWNER}), S.REJECTED, S.REQUESTED),
    E.REFERRAL_CANCELLED: (frozenset({REQUESTER}), S.CANCELLED, S.ACCEPTED),
    E.TRANSFER_DEPARTED: (frozenset({REQUESTER}), S.IN_PROGRESS, S.ACCEPTED),
    E.PATIENT_ARRIVED: (frozenset({OWNER}), None, S.IN_PROGRESS),
    E.CLINICAL_UPDATE: (frozenset({REQUESTER, OWNER}), None, S.REQUESTED),
    E.REFERRAL_COMPLETED: (frozenset({OWNER}), S.COMPLETED, S.IN_PROGRESS),
}


def _referral(status: TaskStatus) -> Referral:
    return Referral(
        id="ref-1",
        status=status,
        requester_org=REQUESTER,
        owner_org=OWNER,
        patient_hn="HN-1",
        last_known_well=None,
        nihss=None,
        suspected_lvo=None,
        teleconsult_requested=False,
        created_at=NOW,
    )


def _change(event: EventCode, sender: str, **overrides: Any) -> ReferralChange:
    target = lifecycle.RULES[event].status if event in lifecycle.RULES else None
    fields: dict[str, Any] = {
        "referral_id": "ref-1",
        "event": event,
        "sender_org": sender,
        "message_id": "m-1",
        "task_status": None,
        "status_reason": "no bed" if target in REASON_REQUIRED else None,
        "occurred_at": NOW,
        "redirect_to": "third-hospital" if event is E.REFERRAL_REDIRECTED else None,
    }
    return ReferralChange(**{**fields, **overrides})


def test_the_rules_cover_exactly_the_events_hospitals_send_about_a_referral() -> None:
    assert set(lifecycle.RULES) == set(EXPECTED)


@pytest.mark.parametrize(
    ("event", "sender"),
    list(itertools.product(EXPECTED, (REQUESTER, OWNER, STRANGER))),
    ids=lambda value: value.value if isinstance(value, EventCode) else value,
)
def test_only_the_hospitals_named_in_the_table_may_send_each_event(
    event: EventCode, sender: str
) -> None:
    senders, status_after, status_before = EXPECTED[event]
    referral = _referral(status_before)

    if sender in senders:
        assert lifecycle.apply(referral, _change(event, sender)) is (status_after or status_before)
    else:
        with pytest.raises(NotAParty, match=f"may send {event.value!r}"):
            lifecycle.apply(referral, _change(event, sender))


def test_an_event_that_does_not_change_a_referral_is_refused() -> None:
    with pytest.raises(InvalidReferral, match="does not change a referral"):
        lifecycle.apply(_referral(S.REQUESTED), _change(E.REFERRAL_REQUESTED, REQUESTER))


@pytest.mark.parametrize("status", [S.REQUESTED, S.ACCEPTED, S.COMPLETED], ids=str)
def test_arrival_is_refused_unless_the_transfer_is_in_progress(status: TaskStatus) -> None:
    with pytest.raises(InvalidReferral, match="needs the transfer in progress"):
        lifecycle.apply(_referral(status), _change(E.PATIENT_ARRIVED, OWNER))


@pytest.mark.parametrize("redirect_to", [None, "", OWNER, REQUESTER], ids=repr)
def test_a_redirect_must_name_a_third_hospital(redirect_to: str | None) -> None:
    change = _change(E.REFERRAL_REDIRECTED, OWNER, redirect_to=redirect_to)
    with pytest.raises(InvalidReferral, match="second Task whose owner is the new hospital"):
        lifecycle.apply(_referral(S.REQUESTED), change)


def test_a_task_status_that_contradicts_the_event_is_refused() -> None:
    change = _change(E.REFERRAL_ACCEPTED, OWNER, task_status=S.REJECTED)
    with pytest.raises(InvalidReferral, match=r"needs Task\.status 'accepted', got 'rejected'"):
        lifecycle.apply(_referral(S.REQUESTED), change)


def test_the_task_state_machine_has_the_last_word() -> None:
    with pytest.raises(TransitionRefused, match="from 'completed' to 'accepted'"):
        lifecycle.apply(_referral(S.COMPLETED), _change(E.REFERRAL_ACCEPTED, OWNER))
    with pytest.raises(TransitionRefused, match="statusReason is required"):
        lifecycle.apply(
            _referral(S.REQUESTED), _change(E.REFERRAL_DECLINED, OWNER, status_reason=None)
        )
