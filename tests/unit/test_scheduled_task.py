"""A scheduled task (shared/workers.py) looks when work falls due and otherwise sleeps: a notice
of work due sooner brings its next round forward, a notice of work due later changes nothing,
and work still due after a round (failing, or held elsewhere) is not looked at in a busy loop."""

from __future__ import annotations

import asyncio
import time

from shared.workers import ScheduledTask, due_in_payload


class Clockwork(ScheduledTask):
    """Its work falls due at ``due`` (epoch seconds; None: none known); a round does it, unless
    it ``stays`` due (held by another instance)."""

    name = "clockwork"

    def __init__(
        self,
        *,
        due: float | None = None,
        fails: bool = False,
        stays: bool = False,
        **kwargs: float,
    ) -> None:
        super().__init__(**{"retry_s": 0.5, "recheck_s": 60.0, **kwargs})
        self.due = due
        self.fails = fails
        self.stays = stays

    async def tick(self) -> None:
        if self.fails:
            raise RuntimeError("the database went away")
        if self.due is not None and self.due <= time.time() and not self.stays:
            self.due = None

    async def next_due(self) -> float | None:
        return self.due


async def _rounds_within(task: ScheduledTask, seconds: float) -> int:
    before = task.rounds
    await asyncio.sleep(seconds)
    return task.rounds - before


async def _started(task: ScheduledTask) -> None:
    task.start()
    await asyncio.sleep(0.1)  # the first round is done: it sleeps


async def test_with_nothing_due_it_looks_once_and_sleeps_until_the_recheck() -> None:
    task = Clockwork(due=None)
    await _started(task)
    try:
        assert task.rounds == 1
        assert await _rounds_within(task, 1.0) == 0
    finally:
        await task.stop()


async def test_a_notice_of_work_due_sooner_brings_the_round_forward_to_its_time() -> None:
    task = Clockwork(due=None)
    await _started(task)
    try:
        task.notice(time.time() + 0.3)
        assert await _rounds_within(task, 0.15) == 0  # not before it falls due
        assert await _rounds_within(task, 0.5) == 1
    finally:
        await task.stop()


async def test_a_notice_of_work_due_after_the_planned_round_changes_nothing() -> None:
    task = Clockwork(due=time.time() + 0.5)
    await _started(task)
    try:
        task.notice(time.time() + 3600)
        task.notice(time.time() + 30)
        assert await _rounds_within(task, 1.0) == 1  # the one planned, at 0.5 s
    finally:
        await task.stop()


async def test_a_notice_without_a_time_means_now_but_no_sooner_than_the_gap() -> None:
    task = Clockwork(due=None, min_gap_s=0.6)
    await _started(task)
    try:
        for _ in range(20):  # a burst of writes
            task.notice(None)
        assert await _rounds_within(task, 0.3) == 0
        assert await _rounds_within(task, 0.6) == 1  # one round for the whole burst
    finally:
        await task.stop()


async def test_work_still_due_after_a_round_is_tried_again_after_the_retry_interval() -> None:
    task = Clockwork(due=time.time() - 10, stays=True, retry_s=0.5)
    await _started(task)
    try:
        # Not a busy loop: about two rounds a second.
        assert await _rounds_within(task, 1.1) in (2, 3)
    finally:
        await task.stop()


async def test_a_failing_round_is_tried_again_after_the_retry_interval() -> None:
    task = Clockwork(due=None, fails=True, retry_s=0.5)
    await _started(task)
    try:
        assert await _rounds_within(task, 1.1) in (2, 3)
        task.fails = False  # the database is back
        await asyncio.sleep(0.6)
        assert await _rounds_within(task, 1.0) == 0
    finally:
        await task.stop()


def test_a_notices_payload_is_the_time_work_falls_due_or_now() -> None:
    assert due_in_payload("1796294400.25") == 1796294400.25
    assert due_in_payload("") is None
    assert due_in_payload("not a time") is None
