"""When readiness calls a consumed partition stalled: a table of what happened on it and when."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from shared.messaging.progress import PartitionProgress

THRESHOLD = 30.0
TP = ("fasttrack.referral.events.v1", 0)


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


Step = Callable[[PartitionProgress, _Clock], None]


def started(offset: int) -> Step:
    return lambda progress, _: progress.started(*TP, offset)


def finished(offset: int) -> Step:
    return lambda progress, _: progress.finished(*TP, offset)


def checked(end_offset: int) -> Step:
    """Readiness looks at the partition (its end as last fetched) between the other steps."""

    def step(progress: PartitionProgress, _: _Clock) -> None:
        progress.stalled({TP}, {TP: end_offset})

    return step


def wait(seconds: float) -> Step:
    def step(_: PartitionProgress, clock: _Clock) -> None:
        clock.now += seconds

    return step


# (story, steps, end offset of the partition, stalled?)
CASES: list[tuple[str, list[Step], int | None, bool]] = [
    ("nothing read, nothing to read", [wait(100)], None, False),
    ("a record processed at once", [started(5), finished(5), wait(100)], 6, False),
    ("a record in processing for less than the threshold", [started(5), wait(29)], 6, False),
    (
        "a record read again and again past the threshold",
        [started(5), wait(10), started(5), wait(10), started(5), wait(11)],
        6,
        True,
    ),
    (
        "a slow record, then the next ones move",
        [started(5), wait(25), finished(5), started(6), wait(25)],
        8,
        False,
    ),
    ("caught up and idle for long", [started(5), finished(5), wait(500)], 6, False),
    (
        "lag seen, and no progress for longer than the threshold",
        [started(5), finished(5), checked(9), wait(31)],
        9,
        True,
    ),
    (
        # Readiness looks in the moment a record fetched after a quiet spell waits for its
        # handler: the partition has lag, and the last record finished long ago.
        "a record just fetched after a long quiet spell",
        [started(5), finished(5), wait(34)],
        7,
        False,
    ),
    (
        "lag seen, then progress, then a new record waiting less than the threshold",
        [started(5), finished(5), checked(9), wait(20), finished(8), wait(20)],
        10,
        False,
    ),
    (
        # The records fetched behind the first finish with the batch's transaction, before the
        # consumer guard finishes the first: the partition is caught up, not lagging.
        "records applied together, the first finished last, then idle",
        [started(5), finished(6), finished(7), finished(5), wait(500)],
        8,
        False,
    ),
    (
        "a dead-lettered poison counts as progress",
        [started(5), wait(5), finished(5), wait(5)],
        6,
        False,
    ),
]


@pytest.mark.parametrize(
    ("story", "steps", "end_offset", "stalled"), CASES, ids=[case[0] for case in CASES]
)
def test_a_partition_is_stalled_only_when_it_stopped_moving_with_work_waiting(
    story: str, steps: list[Step], end_offset: int | None, stalled: bool
) -> None:
    clock = _Clock()
    progress = PartitionProgress(stall_after_s=THRESHOLD, clock=clock)
    for step in steps:
        step(progress, clock)
    end_offsets = {} if end_offset is None else {TP: end_offset}
    assert bool(progress.stalled({TP}, end_offsets)) is stalled


def test_a_stalled_partition_names_the_record_it_waits_on() -> None:
    clock = _Clock()
    progress = PartitionProgress(stall_after_s=THRESHOLD, clock=clock)
    progress.started(*TP, 41)
    clock.now += 45
    [stalled] = progress.stalled({TP}, {TP: 50})
    assert (stalled.topic, stalled.partition, stalled.offset, stalled.stuck_for_s) == (*TP, 41, 45)


def test_a_partition_handed_to_another_member_is_not_judged() -> None:
    clock = _Clock()
    progress = PartitionProgress(stall_after_s=THRESHOLD, clock=clock)
    progress.started(*TP, 41)
    clock.now += 45
    assert progress.stalled(set(), {TP: 50}) == []
