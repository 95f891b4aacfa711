"""The operators' console: how far each referral got through the network, and which stopped.

A referral moves through hops, each recorded by the referral service itself or reported back
to it on Kafka: accepted at intake (its row), published (its outbox row sent to Kafka), the
teleconsult opened by telemedicine (``teleconsult-requested``), the first page sent, delivered
and acknowledged (the notifier's outcomes), the receiving hospital's answer. The console shows
each hop's time and its latency since the one before; a referral still open whose next
expected hop has not come within the threshold is stuck, and the console says where it stopped.

Only ids, hospitals, states and times: no patient data reaches these views.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from shared.fhir.codes import EventCode
from shared.workflow.task_state import TERMINAL


class Hop(StrEnum):
    INTAKE = "intake"
    PUBLISHED = "published"
    CONSULT_OPENED = "consult-opened"
    FIRST_PAGE_SENT = "first-page-sent"
    FIRST_PAGE_DELIVERED = "first-page-delivered"
    ACKNOWLEDGED = "acknowledged"
    ANSWERED = "answered"


# The timeline's event codes that mark a hop (the first one of them counts).
HOP_EVENTS: Mapping[Hop, tuple[EventCode, ...]] = {
    Hop.CONSULT_OPENED: (EventCode.TELECONSULT_REQUESTED,),
    Hop.FIRST_PAGE_SENT: (EventCode.NOTIFICATION_SENT,),
    Hop.FIRST_PAGE_DELIVERED: (EventCode.NOTIFICATION_DELIVERED,),
    Hop.ACKNOWLEDGED: (EventCode.NOTIFICATION_ACKNOWLEDGED,),
    Hop.ANSWERED: (EventCode.REFERRAL_ACCEPTED, EventCode.REFERRAL_DECLINED),
}
# A failure the referral's timeline reports: why a referral may have stopped.
FAILURE_EVENTS = (EventCode.NOTIFICATION_FAILED,)

# Where a referral stands for good (completed, cancelled, rejected, failed, entered in
# error): nothing more is expected of the network.
FINAL_STATES = TERMINAL


@dataclass(frozen=True)
class ReferralProgress:
    """What the referral service knows of one referral's way through the network."""

    referral_id: str
    status: str
    requester: str
    owner: str
    teleconsult_requested: bool
    created_at: datetime
    # When its first event left the outbox for Kafka; None while it waits there.
    published_at: datetime | None
    # The first time of each timeline event code seen for it.
    first_steps: Mapping[str, datetime]
    # Re-routed to another hospital: this referral's part is over.
    replaced_by: str | None = None
    trace_id: str | None = None
    last_failure: str | None = None


@dataclass(frozen=True)
class HopTime:
    hop: Hop
    at: datetime | None
    # Since the hop before it that has a time (None for the first, or when it has none).
    latency: timedelta | None


@dataclass(frozen=True)
class ReferralFlow:
    referral_id: str
    status: str
    requester: str
    owner: str
    created_at: datetime
    hops: tuple[HopTime, ...]
    last_progress: datetime
    # The last hop reached, and the first expected one that has not come.
    stopped_at: Hop
    waiting_for: Hop | None
    stuck: bool
    trace_id: str | None
    last_failure: str | None


def expected_hops(progress: ReferralProgress) -> tuple[Hop, ...]:
    """The hops every open referral must pass, in order: a consult only when one was asked
    for; delivery and acknowledgement are not required (not every channel reports them)."""
    hops = [Hop.INTAKE, Hop.PUBLISHED]
    if progress.teleconsult_requested:
        hops.append(Hop.CONSULT_OPENED)
    hops += [Hop.FIRST_PAGE_SENT, Hop.ANSWERED]
    return tuple(hops)


def hop_times(progress: ReferralProgress) -> dict[Hop, datetime | None]:
    times: dict[Hop, datetime | None] = {
        Hop.INTAKE: progress.created_at,
        Hop.PUBLISHED: progress.published_at,
    }
    for hop, codes in HOP_EVENTS.items():
        seen = [progress.first_steps[c.value] for c in codes if c.value in progress.first_steps]
        times[hop] = min(seen) if seen else None
    return times


def is_open(progress: ReferralProgress) -> bool:
    return progress.status not in FINAL_STATES and progress.replaced_by is None


def flow_of(progress: ReferralProgress, *, now: datetime, stuck_after: timedelta) -> ReferralFlow:
    """Each hop's time and latency, where the referral stopped, and whether it is stuck: open,
    an expected hop missing, and no progress for ``stuck_after``."""
    times = hop_times(progress)
    hops: list[HopTime] = []
    previous: datetime | None = None
    for hop in Hop:
        at = times[hop]
        latency = at - previous if at is not None and previous is not None else None
        hops.append(HopTime(hop, at, latency))
        if at is not None:
            previous = at
    reached = [hop for hop in Hop if times[hop] is not None]
    stopped_at = max(reached, key=lambda hop: (times[hop], list(Hop).index(hop)))
    last_progress = max(
        [t for t in times.values() if t is not None] + list(progress.first_steps.values())
    )
    waiting_for = next((hop for hop in expected_hops(progress) if times[hop] is None), None)
    stuck = is_open(progress) and waiting_for is not None and now - last_progress >= stuck_after
    return ReferralFlow(
        referral_id=progress.referral_id,
        status=progress.status,
        requester=progress.requester,
        owner=progress.owner,
        created_at=progress.created_at,
        hops=tuple(hops),
        last_progress=last_progress,
        stopped_at=stopped_at,
        waiting_for=waiting_for if is_open(progress) else None,
        stuck=stuck,
        trace_id=progress.trace_id,
        last_failure=progress.last_failure,
    )


# A hospital system is silent after 3 times its usual gap between messages (the week over the
# messages it sent in it), never less than an hour nor more than the week: the rule the
# HospitalSilent alert keeps (deploy/prometheus/alerts.yml).
_WEEK = timedelta(days=7)


def silence_limit(messages_7d: int) -> timedelta:
    if messages_7d <= 0:
        return _WEEK
    return max(timedelta(hours=1), min(3 * _WEEK / messages_7d, _WEEK))


def is_silent(*, last_message: datetime | None, messages_7d: int, now: datetime) -> bool:
    return last_message is None or now - last_message > silence_limit(messages_7d)
