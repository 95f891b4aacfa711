"""What a consumer commits: the next offset of each partition's last handled record, in one
request per interval (or at shutdown), only for partitions it holds; a commit the broker did not
take is tried again (a note dropped while its partition stays would leave the group's lag above
zero for good: nothing before it is read again); a rebalance drops the notes, since the
partitions are read again from their last commit."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaConnectionError

from shared.messaging import commits as commits_module
from shared.messaging.commits import PeriodicCommits

A, B = TopicPartition("t", 0), TopicPartition("t", 1)


class _Consumer:
    def __init__(self, assigned: set[TopicPartition], failures: list[Exception] | None = None):
        self.assigned = assigned
        self.failures = failures or []
        self.commits: list[dict[TopicPartition, int]] = []

    def assignment(self) -> set[TopicPartition]:
        return self.assigned

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.commits.append(dict(offsets))


def _record(partition: TopicPartition, offset: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        partition.topic, partition.partition, offset, 0, 0, b"k", b"v", None, 1, 1, []
    )


async def _handled(
    commits: PeriodicCommits, consumer: _Consumer, *handled: tuple[TopicPartition, int]
) -> None:
    for partition, offset in handled:
        await commits.note(cast(AIOKafkaConsumer, consumer), _record(partition, offset))


@pytest.mark.parametrize(
    ("handled", "assigned", "committed"),
    [
        # Several records, two partitions: one request with each partition's next offset.
        ([(A, 5), (A, 6), (B, 3)], {A, B}, [{A: 7, B: 4}]),
        # A record read again after a retry does not move the offset back.
        ([(A, 6), (A, 5)], {A, B}, [{A: 7}]),
        # A partition handed to another member in a rebalance is not committed.
        ([(A, 5), (B, 3)], {A}, [{A: 6}]),
        ([(B, 3)], {A}, []),
    ],
)
async def test_handled_records_are_committed_together_at_the_next_commit(
    handled: list[tuple[TopicPartition, int]],
    assigned: set[TopicPartition],
    committed: list[dict[TopicPartition, int]],
) -> None:
    commits, consumer = PeriodicCommits(interval_s=3600), _Consumer(assigned)
    await _handled(commits, consumer, *handled)
    assert consumer.commits == []  # nothing before the interval (or the shutdown)
    await commits.commit_noted()
    assert consumer.commits == committed
    await commits.stop()


async def test_without_an_interval_each_record_commits_its_own_partition() -> None:
    commits, consumer = PeriodicCommits(interval_s=0), _Consumer({A, B})
    await _handled(commits, consumer, (A, 5), (B, 3))
    assert consumer.commits == [{A: 6}, {B: 4}]


@pytest.mark.parametrize(
    ("failure", "then_committed"),
    [
        (KafkaConnectionError(), [{A: 6, B: 4}]),  # the broker away
        (CommitFailedError(), [{A: 6, B: 4}]),  # a rebalance under way
    ],
)
async def test_a_commit_the_broker_did_not_take_is_tried_again_with_the_next(
    failure: Exception, then_committed: list[dict[TopicPartition, Any]]
) -> None:
    commits, consumer = PeriodicCommits(interval_s=3600), _Consumer({A, B}, [failure])
    await _handled(commits, consumer, (A, 5))
    await commits.commit_noted()
    await _handled(commits, consumer, (B, 3))
    await commits.commit_noted()
    assert consumer.commits == then_committed
    await commits.stop()


async def test_a_rebalance_commits_what_was_handled_and_then_forgets_it() -> None:
    commits, consumer = PeriodicCommits(interval_s=3600), _Consumer({A, B})
    await _handled(commits, consumer, (A, 5), (B, 3))
    await commits.listener.on_partitions_revoked({A, B})
    assert consumer.commits == [{A: 6, B: 4}]
    # Handled while the group rebalanced: read again from the last commit once assigned.
    await _handled(commits, consumer, (A, 9))
    await commits.listener.on_partitions_assigned({A})
    await commits.commit_noted()
    assert consumer.commits == [{A: 6, B: 4}]


async def test_notes_a_failed_revocation_commit_left_are_forgotten() -> None:
    commits, consumer = PeriodicCommits(interval_s=3600), _Consumer({A}, [CommitFailedError()])
    await _handled(commits, consumer, (A, 5))
    await commits.listener.on_partitions_revoked({A})
    await commits.commit_noted()
    assert consumer.commits == []
    await commits.stop()


async def test_a_periodic_commit_the_broker_did_not_take_is_tried_again_by_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The broker restarts while the interval's commit is sent, and no record comes after: the
    commit is still tried again (else the last handled record stays uncommitted, a lag of 1)."""
    monkeypatch.setattr(commits_module, "MIN_RETRY_S", 0.01)
    commits, consumer = PeriodicCommits(interval_s=0.01), _Consumer({A}, [KafkaConnectionError()])
    await _handled(commits, consumer, (A, 5))
    for _ in range(200):
        if consumer.commits:
            break
        await asyncio.sleep(0.01)
    assert consumer.commits == [{A: 6}]
    await commits.stop()


async def test_the_shutdown_commit_leaves_nothing_planned_even_when_it_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A failed commit plans a retry; at shutdown that retry would run after the broker stopped,
    through a closed consumer (aiokafka then tries for ever when the topic is gone)."""
    monkeypatch.setattr(commits_module, "MIN_RETRY_S", 0.05)
    commits = PeriodicCommits(interval_s=0.05)
    consumer = _Consumer({A}, [KafkaConnectionError(), KafkaConnectionError()])
    await _handled(commits, consumer, (A, 5))
    await commits.commit_at_shutdown()
    failed_at_shutdown = len(consumer.failures)
    await asyncio.sleep(0.3)  # several retry periods
    assert len(consumer.failures) == failed_at_shutdown == 1  # no commit tried after it
    assert consumer.commits == []


class _SlowConsumer(_Consumer):
    """A consumer whose commits wait for ``answer`` (the broker slow to answer, the machine
    loaded): records are handled while a commit is in flight."""

    def __init__(self, assigned: set[TopicPartition]) -> None:
        super().__init__(assigned)
        self.sent = asyncio.Event()
        self.answer = asyncio.Event()

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.sent.set()
        await self.answer.wait()
        await super().commit(offsets)


async def test_a_record_handled_while_a_commit_is_in_flight_is_committed_after_it() -> None:
    """The interval's commit is sent for record 5; record 6 is handled before the broker
    answers, and no record comes after. Record 6 is committed by itself: it was left noted with
    no commit planned, the group's lag 1 until the next record (never, on a quiet partition)."""
    commits, consumer = PeriodicCommits(interval_s=0.01), _SlowConsumer({A})
    await _handled(commits, consumer, (A, 5))
    await asyncio.wait_for(consumer.sent.wait(), timeout=5)
    await _handled(commits, consumer, (A, 6))
    consumer.answer.set()
    for _ in range(200):
        if consumer.commits[-1:] == [{A: 7}]:
            break
        await asyncio.sleep(0.01)
    assert consumer.commits == [{A: 6}, {A: 7}]
    await commits.stop()
