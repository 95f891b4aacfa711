"""The soak: one offered rate for many minutes; latency and memory minute by minute, to show
they stay flat (no queue growing, no memory leaking)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.latency import latency_percentiles
from bench.load import Flow, open_loop
from bench.measure import Meter
from bench.procstat import cpu_ms_per_second


def by_minute(flow: Flow, keys: list[str], begin: float) -> list[dict[str, Any]]:
    """Latencies of the units sent in each minute since ``begin``."""
    minutes: dict[int, list[str]] = {}
    for key in keys:
        minutes.setdefault(int((flow.started[key] - begin) // 60), []).append(key)
    rows = []
    for minute in sorted(minutes):
        sent = minutes[minute]
        latencies = [flow.arrived[k] - flow.started[k] for k in sent if k in flow.arrived]
        rows.append(
            {
                "minute": minute + 1,
                "offered": len(sent),
                "arrived": len(latencies),
                **(latency_percentiles(latencies) if len(latencies) >= 2 else {}),
            }
        )
    return rows


async def soak(flow: Flow, meter: Meter, rate: float, minutes: float) -> dict[str, Any]:
    memory: list[dict[str, float]] = []
    # CPU ms a second of each part, minute by minute: a cost that grows with the data (a
    # statement scanning a table that fills) shows as a part's CPU climbing at a steady rate.
    cpu: list[dict[str, float]] = []

    async def sample_each_minute() -> None:
        before, at = meter.usage(), time.monotonic()
        while True:
            await asyncio.sleep(60)
            usage, now = meter.usage(), time.monotonic()
            memory.append({name: u.rss_mb for name, u in usage.items()})
            cpu.append(cpu_ms_per_second(before, usage, now - at))
            before, at = usage, now

    sampler = asyncio.create_task(sample_each_minute())
    begin = time.monotonic()
    known = set(flow.started)
    try:
        figures = await meter.measure(lambda: open_loop(flow, rate, minutes * 60, 180))
    finally:
        sampler.cancel()
    keys = [key for key in flow.started if key not in known]
    rows = by_minute(flow, keys, begin)
    for row, rss, cpu_ms in zip(rows, memory, cpu, strict=False):
        row["rss_mb"] = rss
        row["cpu_ms_per_s"] = cpu_ms
    for row in rows[len(memory) :]:
        row["rss_mb"] = {}
        row["cpu_ms_per_s"] = {}
    return {"rate_per_s": rate, "minutes": minutes, "overall": figures, "minutes_detail": rows}
