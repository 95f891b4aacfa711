"""The escalation ladder of a consult nobody acknowledges (a local choice, configurable):
the on-call consultant, then the role's backup, then the hub's stroke lead (and the spoke is
alerted), then the consult fails to connect and the spoke is told whom to call.
Deadlines count from the request, so a decline, or a page that reached nobody at all (the
notifier's final failure: no roster, every channel failed), moves up the ladder at once without
giving the next rung more time than the ladder allows. Plain rules, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum

from services.telemedicine.domain.model import Consult
from shared.workflow.consult_ids import (
    ON_CALL_RUNG,
    page_request_id,
    referral_consult_id,
    role_reference,
)
from shared.workflow.consult_state import AWAITING_CONSULTANT


class Rung(IntEnum):
    ON_CALL = ON_CALL_RUNG
    BACKUP = 1
    STROKE_LEAD = 2


LAST_RUNG = Rung.STROKE_LEAD
# Why a rung is left at once when its page reached nobody (the step's reason; no patient data).
NOBODY_REACHED = "nobody could be reached (the page failed on every channel)"


class ConnectFailure(StrEnum):
    """Why the consult failed to connect after the last rung, as the spoke is told it."""

    NOT_ANSWERED = "not-answered"  # the last rung's deadline passed
    NOBODY_REACHED = "nobody-reached"  # the last rung's page reached nobody at all
    DECLINED = "declined"  # the last rung declined


def next_rung(rung: int) -> Rung | None:
    """The rung paged after ``rung``; None after the last (the consult fails to connect)."""
    return Rung(rung + 1) if rung < LAST_RUNG else None


def first_page_of_referral_consult(request_id: str, *, referral_id: str | None) -> bool:
    """Whether ``request_id`` is the page the referral service sent the on-call consultant with
    the referral ``referral_id`` (the first rung of the consult it asks for). What is said about
    that page before telemedicine opened the consult (an acknowledgement, a final failure) is
    kept for the consult's opening."""
    return referral_id is not None and request_id == page_request_id(
        referral_consult_id(referral_id), Rung.ON_CALL
    )


def climbs_when_unreached(consult: Consult, *, paged_rung: int) -> bool:
    """Whether the final failure of the page of ``paged_rung`` moves ``consult`` up the ladder
    now: only while that rung is the one waiting for an answer. An older rung's page, a repeat,
    or one after someone accepted (or the consult ended) changes nothing."""
    return consult.stage in AWAITING_CONSULTANT and consult.rung == paged_rung


@dataclass(frozen=True)
class EscalationLadder:
    consultant_role: str
    stroke_lead_role: str
    backup_after: timedelta
    stroke_lead_after: timedelta
    fail_after: timedelta
    # Hubs that run their own times: hub -> (backup, stroke lead, fail), from the request.
    by_hub: Mapping[str, tuple[timedelta, timedelta, timedelta]] = field(default_factory=dict)

    def waits(self, hub: str) -> tuple[timedelta, timedelta, timedelta]:
        return self.by_hub.get(hub, (self.backup_after, self.stroke_lead_after, self.fail_after))

    def deadline(self, rung: int, *, hub: str, requested_at: datetime) -> datetime:
        """When the rung paged has had its time: the next rung, or failure, is then due."""
        return requested_at + self.waits(hub)[min(rung, LAST_RUNG)]

    def paged(self, rung: int, *, hub: str) -> str:
        """Whom a rung pages, as the notifier's directory names them."""
        if rung == Rung.ON_CALL:  # the referral service pages it alike (shared/consult_paging.py)
            return role_reference(hub, self.consultant_role)
        if rung == Rung.BACKUP:
            return role_reference(hub, f"{self.consultant_role}.backup")
        return role_reference(hub, self.stroke_lead_role)

    def unanswered_reason(self, rung: int, *, hub: str) -> str:
        waited = self.waits(hub)[min(rung, LAST_RUNG)]
        seconds = waited.total_seconds()
        amount = f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"
        return f"no acknowledgement {amount} after the request"
