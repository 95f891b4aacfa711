"""Time-critical alerts of a patient's clock: due before a window or target is breached, each
with the moment it warns of (how it is worded, in Thai and English, is the adapters' wording).
Pure functions; lead times are documented in the README."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from services.referral.domain.clock import Clock, Milestone, require_aware
from services.referral.domain.windows import TreatmentWindow
from shared.vocabulary.milestones import MilestoneCode

M = MilestoneCode


class AlertCode(StrEnum):
    LKW_3H30 = "lkw-3h30-no-needle"
    LKW_4H = "lkw-4h-no-needle"
    DIDO_APPROACHING = "dido-approaching-90"
    DIDO_120 = "dido-approaching-120"
    REFERRAL_NOT_ACCEPTED = "referral-not-accepted"
    LATER_THAN_ETA = "later-than-eta"
    # The teleconsult was not asked for within 15 min of door-in (docs/clinical-metrics.md):
    # asked for later, or still not asked for when the 15 min pass.
    CONSULT_REQUESTED_LATE = "consult-requested-late"


@dataclass(frozen=True)
class Alert:
    code: AlertCode
    due_at: datetime
    uncertain: bool  # the time it counts from is estimated
    # What it warns of: the window closing, the target reached, the deadline, the ETA.
    breach_at: datetime


# When the alerts fall due (docs/clinical-metrics.md): after last known well without a needle, and
# a lead time before each door-in-door-out target (the lead is a local choice).
LKW_ALERTS: tuple[tuple[AlertCode, timedelta], ...] = (
    (AlertCode.LKW_3H30, timedelta(hours=3.5)),
    (AlertCode.LKW_4H, timedelta(hours=4)),
)
DIDO_LIMITS: tuple[tuple[AlertCode, timedelta], ...] = (
    (AlertCode.DIDO_APPROACHING, timedelta(minutes=90)),
    (AlertCode.DIDO_120, timedelta(minutes=120)),
)
DIDO_WARNING_LEAD = timedelta(minutes=15)
# Paging the consultant later than this after door-in went with eight times the odds of missing
# a door-to-needle of 60 min: the spoke is told.
CONSULT_REQUEST_TARGET = timedelta(minutes=15)


def _pending(
    milestones: Collection[Milestone],
    accept_by: datetime | None,
    eta: datetime | None,
    consult_requested_at: datetime | None = None,
    consult_expected: bool = False,
) -> list[Alert]:
    """Every alert still to come or overdue, ignoring what was already sent."""
    got = Clock(milestones).latest  # a needle anywhere ends the thrombolysis alerts
    out: list[Alert] = []
    lkw = got.get(M.LAST_KNOWN_WELL)
    if lkw is not None and M.NEEDLE not in got:
        # AHA/ASA 2019 window of 4.5 h; warn at 3.5 h and 4 h (docs/clinical-metrics.md).
        closes = lkw.occurred_at + TreatmentWindow.THROMBOLYSIS.length
        for code, after in LKW_ALERTS:
            out.append(Alert(code, lkw.occurred_at + after, lkw.doubtful, closes))
    door = got.get(M.DOOR_IN_FIRST)
    if door is not None and M.DOOR_OUT_FIRST not in got:
        # 15 min warning before the 90 and 120 min DIDO targets (the lead time is a local choice).
        for code, limit in DIDO_LIMITS:
            reached = door.occurred_at + limit
            out.append(Alert(code, reached - DIDO_WARNING_LEAD, door.doubtful, reached))
    if accept_by is not None and M.REFERRAL_REQUESTED in got and M.REFERRAL_ACCEPTED not in got:
        require_aware("accept_by", accept_by)
        out.append(Alert(AlertCode.REFERRAL_NOT_ACCEPTED, accept_by, False, accept_by))
    if eta is not None and M.DOOR_IN_RECEIVING not in got:
        require_aware("eta", eta)
        out.append(Alert(AlertCode.LATER_THAN_ETA, eta, False, eta))
    if door is not None and (consult_expected or consult_requested_at is not None):
        # Due when the 15 min pass without a request (the watcher raises it then), or at once
        # when the request that came was later than that.
        target = door.occurred_at + CONSULT_REQUEST_TARGET
        if consult_requested_at is not None:
            require_aware("consult_requested_at", consult_requested_at)
        if consult_requested_at is None or consult_requested_at > target:
            out.append(Alert(AlertCode.CONSULT_REQUESTED_LATE, target, door.doubtful, target))
    return out


def due_alerts(
    milestones: Collection[Milestone],
    *,
    now: datetime,
    accept_by: datetime | None = None,
    eta: datetime | None = None,
    already_sent: Collection[AlertCode] = (),
    consult_requested_at: datetime | None = None,
    consult_expected: bool = False,
) -> list[Alert]:
    """Alerts due by ``now`` and not sent yet, earliest first. ``consult_expected``: the
    referral asked for a teleconsult (its request time is ``consult_requested_at`` once known)."""
    require_aware("now", now)
    due = [
        alert
        for alert in _pending(
            list(milestones), accept_by, eta, consult_requested_at, consult_expected
        )
        if alert.due_at <= now and alert.code not in already_sent
    ]
    return sorted(due, key=lambda alert: (alert.due_at, alert.code.value))


def next_alert_at(
    milestones: Collection[Milestone],
    *,
    accept_by: datetime | None = None,
    eta: datetime | None = None,
    already_sent: Collection[AlertCode] = (),
    now: datetime | None = None,
    consult_requested_at: datetime | None = None,
    consult_expected: bool = False,
) -> datetime | None:
    """When a scheduler should wake: the earliest unsent alert's due time (after ``now`` if
    given; without ``now`` an overdue alert's past time is returned, meaning "wake now")."""
    if now is not None:
        require_aware("now", now)
    times = [
        alert.due_at
        for alert in _pending(
            list(milestones), accept_by, eta, consult_requested_at, consult_expected
        )
        if alert.code not in already_sent and (now is None or alert.due_at > now)
    ]
    return min(times, default=None)
