"""The FHIR Task state machine (task-status, as used by IHE 360X and HL7 BSeR).

Pure rules: which status may follow which, and when a statusReason is required. Enforced here
because fhir.resources checks structure only (it accepts ``Task.status = "bogus"``). It lives in
shared/ because every Task-driven workflow follows it: the referral today, the teleconsult next.
"""

from __future__ import annotations

from enum import StrEnum

from shared.errors import RuleBroken


class TaskStatus(StrEnum):
    DRAFT = "draft"
    REQUESTED = "requested"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    READY = "ready"
    CANCELLED = "cancelled"
    IN_PROGRESS = "in-progress"
    ON_HOLD = "on-hold"
    FAILED = "failed"
    COMPLETED = "completed"
    ENTERED_IN_ERROR = "entered-in-error"


S = TaskStatus
# entered-in-error is reachable from every state and is added below.
_NEXT: dict[TaskStatus, frozenset[TaskStatus]] = {
    S.DRAFT: frozenset({S.REQUESTED}),
    # A hub may accept or decline straight away without acknowledging receipt first.
    S.REQUESTED: frozenset({S.RECEIVED, S.ACCEPTED, S.REJECTED, S.CANCELLED}),
    S.RECEIVED: frozenset({S.ACCEPTED, S.REJECTED, S.CANCELLED}),
    S.ACCEPTED: frozenset({S.READY, S.IN_PROGRESS, S.CANCELLED}),
    S.READY: frozenset({S.IN_PROGRESS, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.ON_HOLD, S.COMPLETED, S.FAILED}),
    S.ON_HOLD: frozenset({S.IN_PROGRESS}),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
    S.FAILED: frozenset(),
    S.COMPLETED: frozenset(),
    S.ENTERED_IN_ERROR: frozenset(),
}
ALLOWED_TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    status: targets | ({S.ENTERED_IN_ERROR} if status is not S.ENTERED_IN_ERROR else frozenset())
    for status, targets in _NEXT.items()
}
REASON_REQUIRED = frozenset({S.REJECTED, S.CANCELLED, S.FAILED, S.ON_HOLD})
TERMINAL = frozenset(
    s for s, targets in ALLOWED_TRANSITIONS.items() if targets <= {S.ENTERED_IN_ERROR}
)
# Still waiting for the owner's answer: it may yet accept or reject.
AWAITING_ANSWER = frozenset(
    s for s, targets in ALLOWED_TRANSITIONS.items() if {S.ACCEPTED, S.REJECTED} <= targets
)


def status_codes(statuses: frozenset[TaskStatus]) -> list[str]:
    """A set of states as SQL takes it (``status = ANY($n::text[])``), in a stable order."""
    return sorted(status.value for status in statuses)


class TransitionRefused(RuleBroken):
    """The requested status change is not allowed; ``reason`` says why, for the sender."""


def transition(current: TaskStatus, target: TaskStatus, *, status_reason: str | None) -> TaskStatus:
    """Returns ``target`` when ``current -> target`` is allowed with this statusReason."""
    if target not in ALLOWED_TRANSITIONS[current]:
        allowed = ", ".join(sorted(ALLOWED_TRANSITIONS[current])) or "none (final state)"
        raise TransitionRefused(
            "A referral cannot go from '%(current)s' to '%(target)s'; allowed: %(allowed)s",
            params={"current": current.value, "target": target.value, "allowed": allowed},
        )
    if target in REASON_REQUIRED and not (status_reason and status_reason.strip()):
        raise TransitionRefused(f"Task.statusReason is required for {target.value!r}")
    if target not in REASON_REQUIRED and status_reason:
        raise TransitionRefused(f"Task.statusReason is not allowed for {target.value!r}")
    return target
