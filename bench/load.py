"""How the benchmark offers work: one at a time, N at a time, or open loop at a fixed rate.

Open loop: arrivals are sent on a fixed schedule whatever the system does with the earlier ones
(as hospitals would), so a system slower than the offered rate shows a growing latency instead
of quietly slowing the sender down, the flaw of closed-loop load generators ("coordinated
omission"). A rate is sustained when every referral arrived and the p99 stayed under a limit;
the highest sustained rate is searched by doubling, then halving the interval between the last
rate sustained and the first one not.
"""

from __future__ import annotations

import abc
import asyncio
import time
from dataclasses import dataclass
from typing import Any

from bench.latency import latency_percentiles

# The sender may fall behind its schedule on a busy machine: a phase whose actual offered rate
# is below this share of the target says so.
OFFERED_RATE_TOLERANCE = 0.9


class Flow(abc.ABC):
    """One path under test: sends a unit of work, notices its arrival at the far end."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.arrived: dict[str, float] = {}
        self.failed_sends = 0

    @abc.abstractmethod
    async def send(self) -> str:
        """Sends one unit (recording ``started[key]`` just before) and returns its key."""

    def collect(self) -> None:  # noqa: B027 (a hook: flows that are told of arrivals need none)
        """Notes arrivals that are not pushed into ``arrived`` (polled)."""

    async def wait_for(self, keys: list[str], timeout_s: float, poll_s: float = 0.005) -> bool:
        deadline = time.monotonic() + timeout_s
        while True:
            self.collect()
            if all(key in self.arrived for key in keys):
                return True
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(poll_s)

    async def send_safely(self, keys: list[str]) -> None:
        try:
            keys.append(await self.send())
        except Exception:
            self.failed_sends += 1


@dataclass(frozen=True)
class PhaseResult:
    """A phase's figures: latencies from send to arrival, and what was offered and done."""

    offered: int
    arrived: int
    failed_sends: int
    target_rate_per_s: float | None
    offered_rate_per_s: float
    throughput_per_s: float
    latency: dict[str, float]
    wall_s: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "offered": self.offered,
            "arrived": self.arrived,
            "failed_sends": self.failed_sends,
            "target_rate_per_s": self.target_rate_per_s,
            "offered_rate_per_s": self.offered_rate_per_s,
            "throughput_per_s": self.throughput_per_s,
            "wall_s": self.wall_s,
            **self.latency,
        }


def phase_result(
    flow: Flow, keys: list[str], offered: int, failed: int, target: float | None
) -> PhaseResult:
    done = [key for key in keys if key in flow.arrived]
    if not keys:
        raise RuntimeError("nothing was sent")
    first = min(flow.started[key] for key in keys)
    last_sent = max(flow.started[key] for key in keys)
    last_arrival = max((flow.arrived[key] for key in done), default=last_sent)
    latencies = [flow.arrived[key] - flow.started[key] for key in done]
    return PhaseResult(
        offered=offered,
        arrived=len(done),
        failed_sends=failed,
        target_rate_per_s=target,
        offered_rate_per_s=round(offered / max(last_sent - first, 1e-9), 1) if offered > 1 else 0.0,
        throughput_per_s=round(len(done) / max(last_arrival - first, 1e-9), 1),
        latency=latency_percentiles(latencies) if len(latencies) >= 2 else {"count": len(done)},
        wall_s=round(last_arrival - first, 2),
    )


async def closed_loop(flow: Flow, count: int, concurrency: int, timeout_s: float) -> PhaseResult:
    """``count`` units, ``concurrency`` in flight; at 1 each waits for its arrival (latency
    without queueing)."""
    keys: list[str] = []
    failed_before = flow.failed_sends
    semaphore = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with semaphore:
            sent: list[str] = []
            await flow.send_safely(sent)
            keys.extend(sent)
            if concurrency == 1 and sent:
                await flow.wait_for(sent, 30)

    await asyncio.gather(*(one() for _ in range(count)))
    await flow.wait_for(keys, timeout_s)
    return phase_result(flow, keys, count, flow.failed_sends - failed_before, None)


async def open_loop(flow: Flow, rate: float, seconds: float, drain_s: float) -> PhaseResult:
    """Sends ``rate`` units a second for ``seconds`` on a fixed schedule, then waits up to
    ``drain_s`` for the last arrivals."""
    count = max(1, round(rate * seconds))
    keys: list[str] = []
    failed_before = flow.failed_sends
    tasks: list[asyncio.Task[None]] = []
    begin = time.monotonic()
    for n in range(count):
        delay = begin + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(flow.send_safely(keys)))
    await asyncio.gather(*tasks)
    await flow.wait_for(keys, drain_s)
    return phase_result(flow, keys, count, flow.failed_sends - failed_before, rate)


def sustained(result: PhaseResult, p99_limit_ms: float) -> bool:
    """Every unit arrived, none failed to send, and the p99 stayed under the limit."""
    return (
        result.failed_sends == 0
        and result.arrived == result.offered
        and result.latency.get("p99_ms", float("inf")) <= p99_limit_ms
    )


def next_probe(lowest_failed: float | None, highest_sustained: float, max_rate: float) -> float:
    """Doubles until a rate fails, then halves the gap between the highest rate sustained and
    the lowest that failed."""
    if lowest_failed is None:
        return min(max(highest_sustained * 2, 1.0), max_rate)
    return (highest_sustained + lowest_failed) / 2


@dataclass
class SearchSettings:
    start_rate: float
    max_rate: float
    probe_s: float
    probes: int
    p99_limit_ms: float
    drain_s: float


async def highest_sustainable(flow: Flow, settings: SearchSettings) -> dict[str, Any]:
    """Probes rates (open loop, ``probe_s`` each); returns the highest sustained and every
    probe. A probe whose backlog does not drain ends the search (the next would be muddled)."""
    probes: list[dict[str, Any]] = []
    best = 0.0
    lowest_failed: float | None = None
    rate = settings.start_rate
    for _ in range(settings.probes):
        result = await open_loop(flow, rate, settings.probe_s, settings.drain_s)
        ok = sustained(result, settings.p99_limit_ms)
        probes.append({"rate_per_s": round(rate, 1), "sustained": ok, **result.as_dict()})
        if ok:
            best = max(best, rate)
        else:
            lowest_failed = rate if lowest_failed is None else min(lowest_failed, rate)
        if result.arrived < result.offered or (ok and rate >= settings.max_rate):
            break
        rate = next_probe(lowest_failed, best, settings.max_rate)
    return {
        "highest_sustained_per_s": round(best, 1),
        "p99_limit_ms": settings.p99_limit_ms,
        "probe_s": settings.probe_s,
        "probes": probes,
    }
