"""Teleconsults: a neurologist's opinion requested for a referral. Plain data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from shared.fhir.ids import derived_id
from shared.workflow.task_state import TaskStatus


@dataclass(frozen=True, kw_only=True)
class Consult:
    id: str
    referral_id: str
    # The teleconsult is a FHIR Task: it follows the shared Task state machine.
    status: TaskStatus
    requester_org: str
    # The hub hospital whose on-call neurologist answers.
    consultant_org: str

    @staticmethod
    def for_referral(*, referral_id: str, requester_org: str, consultant_org: str) -> Consult:
        # Deterministic id: the consult of a referral is the same whoever computes it.
        return Consult(
            id=derived_id("tc-", referral_id),
            referral_id=referral_id,
            status=TaskStatus.REQUESTED,
            requester_org=requester_org,
            consultant_org=consultant_org,
        )
