"""The FHIR Task state machine, exhaustively: every pair of states, with and without reason."""

from __future__ import annotations

import itertools

import pytest

from shared.workflow.task_state import (
    ALLOWED_TRANSITIONS,
    AWAITING_ANSWER,
    REASON_REQUIRED,
    TERMINAL,
    TaskStatus,
    TransitionRefused,
    transition,
)

S = TaskStatus

# The state machine written out by hand (FHIR task-status, IHE 360X), apart from the module.
EXPECTED = {
    (S.DRAFT, S.REQUESTED),
    (S.REQUESTED, S.RECEIVED),
    (S.REQUESTED, S.ACCEPTED),
    (S.REQUESTED, S.REJECTED),
    (S.REQUESTED, S.CANCELLED),
    (S.RECEIVED, S.ACCEPTED),
    (S.RECEIVED, S.REJECTED),
    (S.RECEIVED, S.CANCELLED),
    (S.ACCEPTED, S.READY),
    (S.ACCEPTED, S.IN_PROGRESS),
    (S.ACCEPTED, S.CANCELLED),
    (S.READY, S.IN_PROGRESS),
    (S.READY, S.CANCELLED),
    (S.IN_PROGRESS, S.ON_HOLD),
    (S.ON_HOLD, S.IN_PROGRESS),
    (S.IN_PROGRESS, S.COMPLETED),
    (S.IN_PROGRESS, S.FAILED),
} | {(s, S.ENTERED_IN_ERROR) for s in S if s is not S.ENTERED_IN_ERROR}

ALL_PAIRS = list(itertools.product(S, S))


def _reason_for(target: TaskStatus) -> str | None:
    return "patient deteriorated" if target in REASON_REQUIRED else None


def test_table_matches_the_documented_state_machine() -> None:
    assert {(a, b) for a, targets in ALLOWED_TRANSITIONS.items() for b in targets} == EXPECTED


@pytest.mark.parametrize(("current", "target"), sorted(EXPECTED), ids=lambda s: s.value)
def test_every_allowed_transition_works(current: TaskStatus, target: TaskStatus) -> None:
    assert transition(current, target, status_reason=_reason_for(target)) is target


@pytest.mark.parametrize(
    ("current", "target"),
    [pair for pair in ALL_PAIRS if pair not in EXPECTED],
    ids=lambda s: s.value,
)
def test_every_other_transition_is_refused_with_the_allowed_ones_named(
    current: TaskStatus, target: TaskStatus
) -> None:
    with pytest.raises(TransitionRefused) as refused:
        transition(current, target, status_reason=_reason_for(target))
    assert f"from {current.value!r} to {target.value!r}" in refused.value.reason


@pytest.mark.parametrize("target", sorted(REASON_REQUIRED), ids=lambda s: s.value)
def test_states_that_need_a_reason_refuse_to_go_without_one(target: TaskStatus) -> None:
    current = next(a for a, b in sorted(EXPECTED) if b is target)
    for missing in (None, "", "   "):
        with pytest.raises(TransitionRefused, match="statusReason is required"):
            transition(current, target, status_reason=missing)


def test_a_reason_is_refused_where_the_state_does_not_take_one() -> None:
    with pytest.raises(TransitionRefused, match="statusReason is not allowed for 'accepted'"):
        transition(S.REQUESTED, S.ACCEPTED, status_reason="why not")


def test_the_named_sets_of_states_are_those_of_the_table() -> None:
    assert {S.REJECTED, S.CANCELLED, S.FAILED, S.COMPLETED, S.ENTERED_IN_ERROR} == TERMINAL
    assert {S.REQUESTED, S.RECEIVED} == AWAITING_ANSWER
