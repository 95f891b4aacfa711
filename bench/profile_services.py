"""Where each service's CPU goes under a steady load: py-spy samples every service process while
referrals arrive open loop, and each process's samples are summed by the library they were in.

    FT_TEST_PORT_OFFSET=<yours> .venv/bin/python -m bench.profile_services --rate 10 --seconds 30

It uses the benchmark's stack (bench/e2e_latency.py: same ports, same offset rule, wiped first)
and writes py-spy's raw stacks and a summary under ``.local-stack/bench-profiles/``. py-spy reads
the processes' memory (ptrace): it runs as root here; elsewhere it may need CAP_SYS_PTRACE.

The summary gives, per process, the share of its samples whose innermost known frame is in each
library ("self": where the CPU is actually spent) and the share whose stack passes through it
anywhere ("inclusive": what it costs with everything it calls), and the project's own functions
by inclusive share.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.e2e_latency import BENCH_PORTS, BENCH_WEBHOOK_PORT, STATE_DIR, BenchServices, fresh_stack
from bench.flows import FastTrackFlow, webhook_process
from bench.load import closed_loop, open_loop
from tests.support import ROOT, as_hospital

PROFILES = STATE_DIR.parent / "bench-profiles"
PY_SPY = Path(sys.executable).with_name("py-spy")

# A frame belongs to the first category one of whose markers its file path contains (py-spy
# writes full paths: --full-filenames).
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("fhir.resources/pydantic", ("/fhir/resources/", "/fhir_core/", "/pydantic")),
    ("json", ("/json/", "/orjson")),
    ("opentelemetry", ("/opentelemetry/",)),
    ("logging", ("/logging/", "/pythonjsonlogger/")),
    ("prometheus", ("/prometheus_client/",)),
    ("asyncpg", ("/asyncpg/",)),
    ("faststream", ("/faststream/",)),
    ("aiokafka", ("/aiokafka/",)),
    ("http server", ("/uvicorn/", "/starlette/", "/fastapi/", "/h11/", "/httptools/", "/anyio/")),
    ("http client", ("/httpx/", "/httpcore/")),
    ("jinja/babel", ("/jinja2/", "/babel/")),
    ("asyncio", ("/asyncio/", "/uvloop/")),
    ("project", (f"{ROOT}/shared/", f"{ROOT}/services/")),
)
OTHER = "other"


@dataclass(frozen=True)
class Frame:
    function: str
    path: str

    @classmethod
    def parse(cls, text: str) -> Frame:
        """``function (path:line)`` or ``function (path)``, as py-spy's raw format writes."""
        function, _, rest = text.partition(" (")
        path = rest.rstrip(")").rsplit(":", 1)[0] if rest else ""
        return cls(function=function.strip(), path=path)

    @property
    def category(self) -> str:
        for name, markers in CATEGORIES:
            if any(marker in self.path for marker in markers):
                return name
        return OTHER

    @property
    def project_name(self) -> str | None:
        if self.category != "project":
            return None
        return f"{self.path.removeprefix(f'{ROOT}/')}:{self.function}"


def parse_raw(lines: Iterable[str]) -> list[tuple[list[Frame], int]]:
    """py-spy's raw (collapsed) stacks: ``frame;frame;...;frame count``, outermost first. The
    first element py-spy writes is the process or thread name, not a frame; it has no path."""
    stacks: list[tuple[list[Frame], int]] = []
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [Frame.parse(part) for part in stack.split(";")]
        stacks.append(([f for f in frames if f.path], int(count)))
    return stacks


def shares(stacks: list[tuple[list[Frame], int]], *, top: int = 25) -> dict[str, Any]:
    """Self and inclusive shares by category, and the project's functions by inclusive share."""
    total = sum(count for _, count in stacks) or 1
    self_: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    project: Counter[str] = Counter()
    for frames, count in stacks:
        categories = [frame.category for frame in frames]
        innermost = next((c for c in reversed(categories) if c != OTHER), OTHER)
        self_[innermost] += count
        for category in set(categories):
            inclusive[category] += count
        for name in {f.project_name for f in frames} - {None}:
            project[str(name)] += count

    def percent(counter: Counter[str]) -> dict[str, float]:
        return {k: round(100 * v / total, 1) for k, v in counter.most_common()}

    return {
        "samples": total,
        "self_percent": percent(self_),
        "inclusive_percent": percent(inclusive),
        "project_inclusive_percent": dict(list(percent(project).items())[:top]),
    }


async def py_spy(pid: int, output: Path, sample_rate: int) -> asyncio.subprocess.Process:
    """Samples ``pid`` until interrupted, without pausing it (--nonblocking)."""
    return await asyncio.create_subprocess_exec(
        str(PY_SPY),
        *("record", "--pid", str(pid), "--format", "raw", "--output", str(output)),
        *("--rate", str(sample_rate), "--nonblocking", "--full-filenames"),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def main(rate: float, seconds: float, sample_rate: int) -> dict[str, Any]:
    stack = fresh_stack()
    PROFILES.mkdir(parents=True, exist_ok=True)
    work_dir = STATE_DIR / "services"
    work_dir.mkdir(parents=True, exist_ok=True)
    processes = BenchServices(stack, work_dir, ports=BENCH_PORTS, webhook_port=BENCH_WEBHOOK_PORT)
    spies: list[asyncio.subprocess.Process] = []
    try:
        for name in BENCH_PORTS:
            await processes.start(name)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{BENCH_PORTS['referral']}",
            timeout=120,
            headers=as_hospital("sikao-hospital"),
        ) as api:
            flow = FastTrackFlow(api)
            async with webhook_process(BENCH_WEBHOOK_PORT, flow):
                await closed_loop(flow, 20, 5, 120)  # groups joined, caches warm
                for name, process in processes.processes.items():
                    spies.append(await py_spy(process.pid, PROFILES / f"{name}.txt", sample_rate))
                if rate > 0:
                    phase = (await open_loop(flow, rate, seconds, 120)).as_dict()
                    await asyncio.sleep(3)  # the echoes after the last page
                else:  # what the services do with no traffic at all
                    await asyncio.sleep(seconds)
                    phase = {"idle_s": seconds}
                for spy in spies:
                    spy.send_signal(signal.SIGINT)  # py-spy writes its file and exits
                    await asyncio.wait_for(spy.wait(), 60)
    finally:
        for spy in spies:
            if spy.returncode is None:
                spy.kill()
        processes.stop_all()
        stack.run("bash", "deploy/local/stack.sh", "down")
    summary: dict[str, Any] = {"phase": phase}
    for name in BENCH_PORTS:
        with (PROFILES / f"{name}.txt").open(encoding="utf-8") as raw:
            summary[name] = shares(parse_raw(raw))
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--rate", type=float, default=10, help="referrals per second (0: idle, no traffic)"
    )
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--sample-rate", type=int, default=200, help="py-spy samples per second")
    args = parser.parse_args()
    outcome = asyncio.run(main(args.rate, args.seconds, args.sample_rate))
    (PROFILES / "summary.json").write_text(json.dumps(outcome, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(outcome, indent=2))
