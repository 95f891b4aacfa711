"""How a service's consumer has aiokafka fetch: how long the broker holds a fetch that finds
nothing (``FetchWait``), and the next fetch held back until the fetched records are taken
(``HoldFetchesUntilTaken``)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from aiokafka import ConsumerRebalanceListener

# A consumer that took no record for this long asks the broker to hold its fetches for the idle
# fetch wait (``FetchWait``). Longer than the guard's pause before a failed record is read again
# (``FT_CONSUMER_RETRY_BACKOFF_S``, 1 s) and a short wait after it, so the seek that reads it
# again finds a short fetch in flight; short enough that a service between two referrals a few
# seconds apart (and the benchmark's 10 s at rest, 2.5 s after the last record) is idle.
IDLE_AFTER_S = 5.0

# How long aiokafka holds back its next fetch from a broker while a partition it leads has
# fetched records not yet taken (its "prefetch backoff", 100 ms by default, not an option of the
# consumer). Past that it fetches the broker's other partitions without that one, in a fetch the
# broker keeps for the whole fetch wait when nothing comes for them; a record arriving meanwhile
# on the left-out partition waits for it. FastStream hands a record over (``getone``) without
# taking its partition's emptied buffer away; the service's consumer takes it when its handler
# begins (``ServiceConsumer._take_fetched``), and on a loaded machine the middlewares and
# parsing before that took more than 100 ms: the next record of that partition then waited up
# to the fetch wait (500 ms). Held back until the records are taken, the next fetch asks for
# every partition.
PREFETCH_HOLD_S = 60.0


class FetchWait:
    """How long each fetch of a service's consumer asks the broker to hold it when nothing
    comes: ``busy_ms`` while records come, ``idle_ms`` once none came for ``idle_after_s``.

    An idle consumer sends a fetch per wait: the three services' six a second at 500 ms were
    most of the requests the broker served at rest (with the purgatory's expiries). A record
    that arrives returns the fetch in flight at once, whatever its wait, so a longer one costs
    no latency. But a seek (a record read again after a failure, a batch given back) waits
    for the fetch in flight before its records are fetched again, so while records come the
    wait stays short and a poison record is still retried and dead-lettered in seconds; the
    record that ends an idle spell marks the consumer busy as it is parsed, before any handler
    could fail on it.

    aiokafka reads the wait from its fetcher (``_fetch_max_wait_ms``, a private attribute of
    the version the lock file pins) each time it builds a fetch, and writes it into the
    request as a 32-bit integer: this object stands there and is read as one (``__index__``)."""

    def __init__(self, *, busy_ms: int, idle_ms: int, idle_after_s: float = IDLE_AFTER_S) -> None:
        self.busy_ms = busy_ms
        self.idle_ms = max(idle_ms, busy_ms)
        self._idle_after_s = idle_after_s
        self._last_record = -math.inf  # idle until the first record

    def record_came(self) -> None:
        self._last_record = time.monotonic()

    def __index__(self) -> int:
        if time.monotonic() - self._last_record < self._idle_after_s:
            return self.busy_ms
        return self.idle_ms

    __int__ = __index__

    def __repr__(self) -> str:
        return str(self.__index__())


class HoldFetchesUntilTaken(ConsumerRebalanceListener):  # type: ignore[misc]
    """The commits' listener, and ``PREFETCH_HOLD_S`` and the ``FetchWait`` set on the
    consumer's fetcher when partitions are assigned: before any record of theirs is fetched,
    and again after a restart (which makes a new fetcher)."""

    def __init__(
        self,
        commits: ConsumerRebalanceListener,
        kafka_consumer: Callable[[], object],
        fetch_wait: FetchWait,
    ) -> None:
        self._commits = commits
        self._kafka_consumer = kafka_consumer
        self._fetch_wait = fetch_wait

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await self._commits.on_partitions_revoked(revoked)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        fetcher = getattr(self._kafka_consumer(), "_fetcher", None)
        if fetcher is not None and hasattr(fetcher, "_prefetch_backoff"):
            fetcher._prefetch_backoff = PREFETCH_HOLD_S
        if fetcher is not None and hasattr(fetcher, "_fetch_max_wait_ms"):
            fetcher._fetch_max_wait_ms = self._fetch_wait
        await self._commits.on_partitions_assigned(assigned)
