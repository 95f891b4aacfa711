"""The operators' console's rules: each hop's time and latency, where a referral stopped, when it
is stuck, and when a hospital system counts as silent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.referral.domain.console import (
    Hop,
    ReferralProgress,
    flow_of,
    is_silent,
    silence_limit,
)
from services.referral.domain.display_time import latency

T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
PATIENCE = timedelta(minutes=10)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _progress(
    *,
    published: float | None = 0.4,
    steps: dict[str, float] | None = None,
    status: str = "requested",
    teleconsult: bool = False,
    replaced_by: str | None = None,
) -> ReferralProgress:
    return ReferralProgress(
        referral_id="ref-1",
        status=status,
        requester="sikao-hospital",
        owner="trang-hospital",
        teleconsult_requested=teleconsult,
        created_at=T0,
        published_at=_at(published) if published is not None else None,
        first_steps={code: _at(s) for code, s in (steps or {}).items()},
        replaced_by=replaced_by,
    )


PAGED = {"notification-sent": 2.0}
ANSWERED = {"notification-sent": 2.0, "referral-accepted": 90.0}

# (case, progress, minutes later, stuck?, stopped after, waiting for)
CASES = [
    ("never left the outbox", _progress(published=None), 11, True, Hop.INTAKE, Hop.PUBLISHED),
    ("still within the patience", _progress(published=None), 9, False, Hop.INTAKE, Hop.PUBLISHED),
    ("published, nobody paged", _progress(), 11, True, Hop.PUBLISHED, Hop.FIRST_PAGE_SENT),
    (
        "a consult asked for, telemedicine silent",
        _progress(teleconsult=True, steps=PAGED),
        11,
        True,
        Hop.FIRST_PAGE_SENT,
        Hop.CONSULT_OPENED,
    ),
    (
        "paged, the hub never answered",
        _progress(steps=PAGED),
        11,
        True,
        Hop.FIRST_PAGE_SENT,
        Hop.ANSWERED,
    ),
    ("answered: nothing more expected", _progress(steps=ANSWERED), 60, False, Hop.ANSWERED, None),
    (
        "cancelled: over",
        _progress(published=None, status="cancelled"),
        60,
        False,
        Hop.INTAKE,
        None,
    ),
    (
        "re-routed: the new referral carries on",
        _progress(steps=PAGED, replaced_by="ref-2"),
        60,
        False,
        Hop.FIRST_PAGE_SENT,
        None,
    ),
]


@pytest.mark.parametrize(
    ("progress", "minutes", "stuck", "stopped_at", "waiting_for"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_where_a_referral_stopped_and_whether_it_is_stuck(
    progress: ReferralProgress,
    minutes: float,
    stuck: bool,
    stopped_at: Hop,
    waiting_for: Hop | None,
) -> None:
    last = max([T0, *progress.first_steps.values()])
    flow = flow_of(progress, now=last + timedelta(minutes=minutes), stuck_after=PATIENCE)
    assert (flow.stuck, flow.stopped_at, flow.waiting_for) == (stuck, stopped_at, waiting_for)


def test_each_hops_latency_is_since_the_last_hop_that_happened() -> None:
    progress = _progress(
        steps={
            "notification-sent": 2.0,
            "notification-acknowledged": 30.0,
            "referral-accepted": 90.0,
        }
    )
    flow = flow_of(progress, now=_at(100), stuck_after=PATIENCE)
    latencies = {hop.hop: hop.latency for hop in flow.hops}
    assert latencies == {
        Hop.INTAKE: None,
        Hop.PUBLISHED: timedelta(seconds=0.4),
        Hop.CONSULT_OPENED: None,
        Hop.FIRST_PAGE_SENT: timedelta(seconds=1.6),
        # Not reported (a webhook says nothing of delivery): skipped, the next counts from before.
        Hop.FIRST_PAGE_DELIVERED: None,
        Hop.ACKNOWLEDGED: timedelta(seconds=28),
        Hop.ANSWERED: timedelta(seconds=60),
    }


@pytest.mark.parametrize(
    ("messages_7d", "limit"),
    [
        (0, timedelta(days=7)),
        (1, timedelta(days=7)),  # 3 weeks, cut to the week
        (21, timedelta(days=1)),
        (10_000, timedelta(hours=1)),  # every minute: still an hour before it counts
    ],
)
def test_a_hospital_is_silent_after_three_of_its_usual_gaps(
    messages_7d: int, limit: timedelta
) -> None:
    assert silence_limit(messages_7d) == limit
    last = T0
    assert not is_silent(last_message=last, messages_7d=messages_7d, now=last + limit)
    assert is_silent(
        last_message=last, messages_7d=messages_7d, now=last + limit + timedelta(seconds=1)
    )
    assert is_silent(last_message=None, messages_7d=0, now=T0)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0.42, "0.4 s"), (12.9, "12 s"), (187, "3:07 min"), (7500, "2:05 h")],
)
def test_a_latency_reads_as_precisely_as_it_is_short(seconds: float, shown: str) -> None:
    assert latency(timedelta(seconds=seconds)) == shown
