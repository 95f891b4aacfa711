"""Is each partition a consumer holds moving? Fed by the consumer guard, read by readiness.

A partition is stalled when a record on it has been in processing (read, failed, read again)
for longer than the threshold, or when it has had lag for that long with nothing on it finished
meanwhile. The lag is timed from the first check that saw it: a record fetched after a quiet
spell has lag until its handler finishes it, and the last record finished long ago does not
make it stalled.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

TopicPartition = tuple[str, int]


@dataclass(frozen=True)
class StalledPartition:
    topic: str
    partition: int
    offset: int | None  # the record it waits on, when one is in processing
    stuck_for_s: float


@dataclass
class _Partition:
    last_progress: float
    pending_offset: int | None = None
    pending_since: float | None = None
    next_offset: int | None = None  # after the last finished record
    lag_seen_since: float | None = None  # the first check that saw the partition behind its end


@dataclass
class PartitionProgress:
    stall_after_s: float
    clock: Callable[[], float] = time.monotonic
    _partitions: dict[TopicPartition, _Partition] = field(default_factory=dict)

    def _get(self, key: TopicPartition) -> _Partition:
        state = self._partitions.get(key)
        if state is None:
            state = self._partitions[key] = _Partition(last_progress=self.clock())
        return state

    def started(self, topic: str, partition: int, offset: int) -> None:
        state = self._get((topic, partition))
        if state.pending_offset != offset:
            state.pending_offset, state.pending_since = offset, self.clock()

    def finished(self, topic: str, partition: int, offset: int) -> None:
        state = self._get((topic, partition))
        state.last_progress = self.clock()
        # Never backwards: the records applied together with a first one finish before it (the
        # consumer guard finishes the first after the batch), and the partition is past them.
        state.next_offset = max(state.next_offset or 0, offset + 1)
        if state.pending_offset is not None and state.pending_offset <= offset:
            state.pending_offset = state.pending_since = None

    def stalled(
        self, assigned: Iterable[TopicPartition], end_offsets: Mapping[TopicPartition, int]
    ) -> list[StalledPartition]:
        """Assigned partitions that have not moved for longer than the threshold.

        ``end_offsets``: the partition's end (high watermark) as last fetched, where known.
        """
        now = self.clock()
        stalled = []
        assigned = set(assigned)
        # A partition handed to another member is no longer ours to judge.
        for key in set(self._partitions) - assigned:
            del self._partitions[key]
        for key in sorted(assigned):
            state = self._get(key)
            if state.pending_since is not None:
                waiting = now - state.pending_since
                offset: int | None = state.pending_offset
            else:
                end = end_offsets.get(key)
                lagging = (
                    end is not None and state.next_offset is not None and end > state.next_offset
                )
                if not lagging:
                    state.lag_seen_since, waiting = None, 0.0
                else:
                    if state.lag_seen_since is None:
                        state.lag_seen_since = now
                    waiting = now - max(state.last_progress, state.lag_seen_since)
                offset = None
            if waiting > self.stall_after_s:
                stalled.append(StalledPartition(key[0], key[1], offset, round(waiting, 1)))
        return stalled
