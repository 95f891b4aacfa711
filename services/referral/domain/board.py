"""What the clinicians' lists show: a hub's board of arriving referrals (with who of the hub has
seen each) and a spoke's own active referrals. Plain read models, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.workflow.task_state import AWAITING_ANSWER, TaskStatus


@dataclass(frozen=True, kw_only=True)
class Acknowledgement:
    """Someone of the receiving hospital saw the referral on the board."""

    user_id: str
    display_name: str
    acknowledged_at: datetime


@dataclass(frozen=True, kw_only=True)
class ListedReferral:
    """One line of a board or list: enough to decide, nothing of the patient's identity."""

    id: str
    status: TaskStatus
    requester_org: str
    requester_name: str
    owner_org: str
    owner_name: str
    created_at: datetime
    last_known_well: datetime | None
    nihss: int | None
    suspected_lvo: bool | None
    teleconsult_requested: bool
    prealert: bool
    accept_by: datetime | None
    acknowledgements: tuple[Acknowledgement, ...] = ()

    @property
    def acknowledged(self) -> bool:
        """Someone of the receiving hospital has seen it; until then the board highlights it."""
        return bool(self.acknowledgements)

    @property
    def needs_attention(self) -> bool:
        """Highlighted on the board: waiting for the hub's answer and nobody there has seen it
        (an answer from the hospital's own system counts as seen)."""
        return self.awaiting_answer and not self.acknowledged

    @property
    def awaiting_answer(self) -> bool:
        """The hub may still accept or decline it."""
        return self.status in AWAITING_ANSWER
