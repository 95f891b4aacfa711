"""Latency percentiles, as every benchmark of the project reports them."""

from __future__ import annotations

import statistics


def latency_percentiles(latencies_s: list[float]) -> dict[str, float]:
    """Count, p50, p95, p99 and max in milliseconds of latencies given in seconds."""
    ordered = sorted(latencies_s)
    quantiles = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "count": len(ordered),
        "p50_ms": round(quantiles[49] * 1000, 1),
        "p95_ms": round(quantiles[94] * 1000, 1),
        "p99_ms": round(quantiles[98] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }
