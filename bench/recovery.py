"""Restart-to-health: how long a service takes to answer again after a start or a SIGKILL.

Runs the three services against the test stack (ports shifted by FT_TEST_PORT_OFFSET, started if
needed), then for each service and round: SIGKILL it, start it again and time, from the
moment the new process is spawned:
- ``live_s``: the first 200 from ``/health/live`` (the process answers; n/a before it existed);
- ``health_s``: the first 200 from ``/health`` (database and Kafka reachable);
- ``consuming_s``: the first readiness answer whose consumers have partitions assigned again
  (the consumer group has rebalanced; n/a when the service does not report it).
Figures go to bench/results/recovery.json.

Usage: python -m bench.recovery [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.harness import SERVICE_PORTS, ServiceProcesses
from tests.support import ROOT, TestStack

RESULTS = ROOT / "bench" / "results" / "recovery.json"
GIVE_UP_S = 120.0


async def _first_success(client: httpx.AsyncClient, url: str, ok: Any) -> float | None:
    """Seconds until ``ok(response)`` holds; None when the endpoint does not exist (404)."""
    began = time.monotonic()
    while time.monotonic() - began < GIVE_UP_S:
        try:
            response = await client.get(url, timeout=2)
        except httpx.HTTPError:
            response = None
        if response is not None:
            if response.status_code == 404:
                return None
            if ok(response):
                return time.monotonic() - began
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {GIVE_UP_S:.0f} s")


def _consuming(response: httpx.Response) -> bool:
    if response.status_code != 200:
        return False
    consumers = response.json().get("consumers")
    return isinstance(consumers, dict) and consumers.get("assigned_partitions", 0) > 0


async def measure_start(processes: ServiceProcesses, name: str) -> dict[str, float | None]:
    """Spawns ``name`` and times its endpoints concurrently from the spawn."""
    base = f"http://127.0.0.1:{processes.ports[name]}"
    processes.spawn(name)
    async with httpx.AsyncClient() as client:
        live, health, consuming = await asyncio.gather(
            _first_success(client, f"{base}/health/live", lambda r: r.status_code == 200),
            _first_success(client, f"{base}/health", lambda r: r.status_code == 200),
            _first_success(client, f"{base}/health/ready", _consuming),
        )
    return {"live_s": live, "health_s": health, "consuming_s": consuming}


def _summary(values: list[float | None]) -> dict[str, float | None]:
    known = [v for v in values if v is not None]
    if not known:
        return {"median": None, "min": None, "max": None}
    return {
        "median": round(statistics.median(known), 2),
        "min": round(min(known), 2),
        "max": round(max(known), 2),
    }


async def main(rounds: int) -> dict[str, Any]:
    stack = TestStack(state_dir=ROOT / ".local-stack" / "test")
    python = stack.env()["FT_PYTHON"]
    stack.run("bash", "deploy/local/stack.sh", "up")
    stack.run(python, "-m", "shared.admin", "migrate")
    stack.run(python, "-m", "shared.admin", "create-topics")
    work_dir = ROOT / ".local-stack" / "recovery"
    work_dir.mkdir(parents=True, exist_ok=True)
    processes = ServiceProcesses(stack, work_dir)
    figures: dict[str, Any] = {}
    try:
        for name in SERVICE_PORTS:
            await processes.start(name)
        for name in SERVICE_PORTS:
            runs = []
            for _ in range(rounds):
                processes.kill(name)
                runs.append(await measure_start(processes, name))
            figures[name] = {
                key: _summary([run[key] for run in runs])
                for key in ("live_s", "health_s", "consuming_s")
            } | {"runs": runs}
    finally:
        processes.stop_all()
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "rounds": rounds,
        "after_sigkill": figures,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    outcome = asyncio.run(main(args.rounds))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(outcome, indent=2) + "\n", encoding="utf-8")
    for service, figure in outcome["after_sigkill"].items():
        print(
            service,
            {key: figure[key]["median"] for key in ("live_s", "health_s", "consuming_s")},
            "max",
            {key: figure[key]["max"] for key in ("live_s", "health_s", "consuming_s")},
        )
    print(f"written to {args.output}")
