"""The teleconsult's workflow, beside the FHIR Task state machine (``task_state``).

A teleconsult is a FHIR Task ``partOf`` the referral Task; its stages say more than Task.status
can (paging whom, video started, recommendation signed), so each stage is published as
``Task.businessStatus`` with the Task.status it implies (``TASK_STATUS``). Pure rules, no I/O.

    requested -> paging -> accepted -> in-video -> recommendation-pending -> recommended
    paging -> paging        (no acknowledgement in time: the next rung of the ladder is paged)
    paging -> declined -> paging   (the person paged declined: the next on the roster)
    cancelled (by the spoke, before the video)
    failed (nobody answered, or the video session broke down)
"""

from __future__ import annotations

from enum import StrEnum

from shared.errors import RuleBroken
from shared.workflow.task_state import TaskStatus


class ConsultStage(StrEnum):
    REQUESTED = "requested"
    PAGING = "paging"
    DECLINED = "declined"
    ACCEPTED = "accepted"
    IN_VIDEO = "in-video"
    RECOMMENDATION_PENDING = "recommendation-pending"
    RECOMMENDED = "recommended"
    CANCELLED = "cancelled"
    FAILED = "failed"


C = ConsultStage
CONSULT_TRANSITIONS: dict[ConsultStage, frozenset[ConsultStage]] = {
    C.REQUESTED: frozenset({C.PAGING, C.CANCELLED, C.FAILED}),
    # Paging again is the escalation ladder: the backup, then the stroke lead.
    C.PAGING: frozenset({C.PAGING, C.ACCEPTED, C.DECLINED, C.CANCELLED, C.FAILED}),
    C.DECLINED: frozenset({C.PAGING, C.CANCELLED, C.FAILED}),
    # A consultant who cannot get video advises by telephone: straight to the recommendation.
    C.ACCEPTED: frozenset({C.IN_VIDEO, C.RECOMMENDATION_PENDING, C.CANCELLED, C.FAILED}),
    # Once the consultant is on video the consult ends with advice, or fails (as a Task in
    # progress does): it is no longer cancelled.
    C.IN_VIDEO: frozenset({C.RECOMMENDATION_PENDING, C.FAILED}),
    C.RECOMMENDATION_PENDING: frozenset({C.RECOMMENDED, C.FAILED}),
    C.RECOMMENDED: frozenset(),
    C.CANCELLED: frozenset(),
    C.FAILED: frozenset(),
}
CONSULT_REASON_REQUIRED = frozenset({C.DECLINED, C.CANCELLED, C.FAILED})
CONSULT_TERMINAL = frozenset(s for s, targets in CONSULT_TRANSITIONS.items() if not targets)
# Waiting for someone to acknowledge the page: what the escalation ladder watches.
AWAITING_CONSULTANT = frozenset({C.PAGING, C.DECLINED})

# The Task.status each stage is published with (FHIR task-status).
TASK_STATUS: dict[ConsultStage, TaskStatus] = {
    C.REQUESTED: TaskStatus.REQUESTED,
    C.PAGING: TaskStatus.REQUESTED,
    C.DECLINED: TaskStatus.REQUESTED,
    C.ACCEPTED: TaskStatus.ACCEPTED,
    C.IN_VIDEO: TaskStatus.IN_PROGRESS,
    C.RECOMMENDATION_PENDING: TaskStatus.IN_PROGRESS,
    C.RECOMMENDED: TaskStatus.COMPLETED,
    C.CANCELLED: TaskStatus.CANCELLED,
    C.FAILED: TaskStatus.FAILED,
}


class ConsultTransitionRefused(RuleBroken):
    """The consult cannot move that way; ``reason`` says why, for the caller."""


def consult_transition(
    current: ConsultStage, target: ConsultStage, *, reason: str | None
) -> ConsultStage:
    """Returns ``target`` when ``current -> target`` is allowed with this reason."""
    if target not in CONSULT_TRANSITIONS[current]:
        allowed = ", ".join(sorted(CONSULT_TRANSITIONS[current])) or "none (final stage)"
        raise ConsultTransitionRefused(
            f"A consult cannot go from {current.value!r} to {target.value!r}; allowed: {allowed}"
        )
    if target in CONSULT_REASON_REQUIRED and not (reason and reason.strip()):
        raise ConsultTransitionRefused(f"A reason is required for {target.value!r}")
    return target
