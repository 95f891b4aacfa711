"""The teleconsult workflow, exhaustively: every pair of stages, with and without a reason, and
the Task.status each stage is published with against the shared Task state machine."""

from __future__ import annotations

import itertools

import pytest

from shared.workflow.consult_state import (
    AWAITING_CONSULTANT,
    CONSULT_REASON_REQUIRED,
    CONSULT_TERMINAL,
    CONSULT_TRANSITIONS,
    TASK_STATUS,
    ConsultStage,
    ConsultTransitionRefused,
    consult_transition,
)
from shared.workflow.task_state import ALLOWED_TRANSITIONS, TaskStatus

C = ConsultStage
T = TaskStatus

# The workflow written out by hand (issue 12), apart from the module.
EXPECTED = {
    (C.REQUESTED, C.PAGING),
    (C.REQUESTED, C.CANCELLED),
    (C.REQUESTED, C.FAILED),
    (C.PAGING, C.PAGING),
    (C.PAGING, C.ACCEPTED),
    (C.PAGING, C.DECLINED),
    (C.PAGING, C.CANCELLED),
    (C.PAGING, C.FAILED),
    (C.DECLINED, C.PAGING),
    (C.DECLINED, C.CANCELLED),
    (C.DECLINED, C.FAILED),
    (C.ACCEPTED, C.IN_VIDEO),
    (C.ACCEPTED, C.RECOMMENDATION_PENDING),
    (C.ACCEPTED, C.CANCELLED),
    (C.ACCEPTED, C.FAILED),
    (C.IN_VIDEO, C.RECOMMENDATION_PENDING),
    (C.IN_VIDEO, C.FAILED),
    (C.RECOMMENDATION_PENDING, C.RECOMMENDED),
    (C.RECOMMENDATION_PENDING, C.FAILED),
}
ALL_PAIRS = list(itertools.product(C, C))
# A consult that never connected fails before its Task is in progress, which the shared Task
# machine (a referral fails only once in progress) does not list; FHIR's "failed" ("attempted
# but could not be completed") covers paging nobody answered.
FAILS_BEFORE_IN_PROGRESS = {(T.REQUESTED, T.FAILED), (T.ACCEPTED, T.FAILED)}


def _reason_for(target: ConsultStage) -> str | None:
    return "nobody answered" if target in CONSULT_REASON_REQUIRED else None


def test_table_matches_the_documented_workflow() -> None:
    assert {(a, b) for a, targets in CONSULT_TRANSITIONS.items() for b in targets} == EXPECTED


@pytest.mark.parametrize(("current", "target"), sorted(EXPECTED), ids=lambda s: s.value)
def test_every_allowed_step_works(current: ConsultStage, target: ConsultStage) -> None:
    assert consult_transition(current, target, reason=_reason_for(target)) is target


@pytest.mark.parametrize(
    ("current", "target"),
    [pair for pair in ALL_PAIRS if pair not in EXPECTED],
    ids=lambda s: s.value,
)
def test_every_other_step_is_refused_with_the_allowed_ones_named(
    current: ConsultStage, target: ConsultStage
) -> None:
    with pytest.raises(ConsultTransitionRefused) as refused:
        consult_transition(current, target, reason=_reason_for(target))
    assert f"from {current.value!r} to {target.value!r}" in refused.value.reason


@pytest.mark.parametrize("target", sorted(CONSULT_REASON_REQUIRED), ids=lambda s: s.value)
def test_declining_cancelling_and_failing_need_a_reason(target: ConsultStage) -> None:
    for missing in (None, "", "   "):
        with pytest.raises(ConsultTransitionRefused, match="A reason is required"):
            consult_transition(C.PAGING, target, reason=missing)


@pytest.mark.parametrize(("current", "target"), sorted(EXPECTED), ids=lambda s: s.value)
def test_each_step_publishes_a_task_status_the_shared_task_machine_allows(
    current: ConsultStage, target: ConsultStage
) -> None:
    before, after = TASK_STATUS[current], TASK_STATUS[target]
    assert (
        before is after
        or after in ALLOWED_TRANSITIONS[before]
        or (before, after) in FAILS_BEFORE_IN_PROGRESS
    )


def test_the_named_sets_of_stages_are_those_of_the_table() -> None:
    assert {C.RECOMMENDED, C.CANCELLED, C.FAILED} == CONSULT_TERMINAL
    assert {C.PAGING, C.DECLINED} == AWAITING_CONSULTANT
    assert set(TASK_STATUS) == set(C)
