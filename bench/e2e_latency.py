"""End-to-end benchmark: referrals through the real path, against bare aiokafka on the same broker.

Every run starts from nothing: the benchmark's Kafka and PostgreSQL (durable: fsync and
synchronous_commit on, as ``make up``) are deleted and created again, so no earlier run's
referrals, offsets or re-routes leak in. The phases, for Fast Track and then for the baseline:
- latency: one at a time (no queueing), p50/p95/p99 from the send to the arrival;
- open loop at each offered rate (default 10 and 50 per second), whatever the system keeps up;
- the highest sustained rate (every referral arrives, p99 under a limit), searched;
- capacity: N offered C at a time (the figure earlier versions reported).
Each measured phase reports CPU ms per referral per process (/proc), memory per process, SQL
statements, round trips and transactions per referral (pg_stat_statements, pg_stat_database),
Kafka records, offset commits and spans per referral. ``--soak MINUTES`` instead offers one rate
for that long and reports latency and memory minute by minute.
Usage: python -m bench.e2e_latency [--rates 10,50] [--soak MINUTES] (see --help)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.counters import DatabaseCounters, KafkaOffsets
from bench.flows import AiokafkaTwoHops, FastTrackFlow, webhook_process
from bench.load import Flow, SearchSettings, closed_loop, highest_sustainable, open_loop
from bench.measure import LOAD_GENERATOR, Meter
from bench.report import ratios, report
from bench.soak import soak
from tests.e2e.harness import ServiceProcesses
from tests.support import PORT_OFFSET, ROOT, TestStack, as_hospital, shifted_port

# FT_TEST_PORT_OFFSET shifts every port of the benchmark as it does the test suite's (0 by
# default: `make bench` keeps its ports), so short runs of several checkouts can go side by side.
# All below Linux's ephemeral ports (32768 and up, even shifted by several thousand): a listener
# there could find its port taken by one end of an outgoing connection (a run failed so, a
# service unable to bind 40002, at offset 2000), and clear of the test suite's at both halves'
# offsets (tests/unit/test_bench_ports.py).
BENCH_PORTS = {
    "referral": shifted_port(24001),
    "telemedicine": shifted_port(24002),
    "notifier": shifted_port(24003),
}
BENCH_WEBHOOK_PORT = shifted_port(24099)
STATE_DIR = ROOT / ".local-stack" / "bench"
# A run on a shifted offset is a developer's short run: its figures stay beside its stack instead
# of replacing the committed ones.
RESULTS_DIR = ROOT / "bench" / "results" if PORT_OFFSET == 0 else STATE_DIR.parent / "bench-results"
RESULTS = RESULTS_DIR / "e2e_latency.json"
SOAK_RESULTS = RESULTS_DIR / "soak.json"
# The test harness polls fast so tests finish soon; the benchmark runs the services with their
# production defaults instead (these settings are left unset).
TEST_ONLY_SETTINGS = (
    "FT_OUTBOX_RETRY_S",
    "FT_CONSUMER_RETRY_BACKOFF_S",
    "FT_REFERRAL_DEADLINE_POLL_S",
    "FT_REFERRAL_ALERT_POLL_S",
    "FT_TELEMEDICINE_ESCALATION_POLL_S",
    "FT_NOTIFIER_ESCALATION_POLL_S",
    "FT_METRICS_SAMPLE_INTERVAL_S",
    "FT_REFERRAL_KPI_METRICS_INTERVAL_S",
    "FT_NOTIFIER_HTTP_TIMEOUT_S",
    "FT_NOTIFIER_DELIVERY_LEASE_S",
    "FT_NOTIFIER_BACKOFF_BASE_S",
    "FT_REFERRAL_PAGE_HEARTBEAT_S",
)


@dataclass(frozen=True)
class BenchStack(TestStack):
    """Durable PostgreSQL with pg_stat_statements loaded (this cluster only)."""

    def env(self) -> dict[str, str]:
        env = super().env()
        # The test suite's check of every built message (tests/__init__.py) is not production's.
        env.pop("FT_CHECK_BUILT_MESSAGES", None)
        return {
            **env,
            "FT_PG_SERVER_OPTS": "-c shared_preload_libraries=pg_stat_statements"
            " -c pg_stat_statements.track_planning=on",
            # Referrals nobody answers would be re-routed after ten minutes: a soak would then
            # measure re-routing too. The benchmark measures the path to the page.
            "FT_REFERRAL_ACCEPT_WITHIN_MIN": "1440",
        }


class BenchServices(ServiceProcesses):
    def env(self, name: str) -> dict[str, str]:
        env = {k: v for k, v in super().env(name).items() if k not in TEST_ONLY_SETTINGS}
        # Spans are written to the trace files within a second (the SDK's default is 5 s), so
        # a phase's spans are counted in that phase.
        return {**env, "OTEL_BSP_SCHEDULE_DELAY": "1000"}


def bench_stack() -> BenchStack:
    return BenchStack(
        state_dir=STATE_DIR,
        kafka_port=shifted_port(22092),
        kafka_controller_port=shifted_port(22093),
        kafka_hospital_port=shifted_port(22094),
        postgres_port=shifted_port(22632),
        zipkin_port=shifted_port(22411),
        durable=True,
    )


async def postmaster_pid(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        data_directory = await connection.fetchval("SELECT current_setting('data_directory')")
    finally:
        await connection.close()
    return int((Path(data_directory) / "postmaster.pid").read_text().split()[0])


def pid_file(path: Path) -> int:
    return int(path.read_text().split()[0])


@dataclass(frozen=True)
class Options:
    rates: list[float]
    phase_s: float
    drain_s: float
    warmup: int
    idle_s: float
    latency_count: int
    count: int
    concurrency: int
    search: SearchSettings
    baseline_search: SearchSettings
    soak_minutes: float
    soak_rate: float


async def phases(
    flow: Flow, meter: Meter, options: Options, search: SearchSettings
) -> dict[str, Any]:
    figures: dict[str, Any] = {
        # Groups joined, caches warm, and the broker's JVM past most of its compiling: measured
        # like a phase, so what the warm-up cost (its JIT share) is in the figures too.
        "warmup": await meter.measure(
            lambda: closed_loop(flow, options.warmup, options.concurrency, options.drain_s)
        ),
        "idle_cpu_ms_per_s": await meter.idle(options.idle_s),
        "one_at_a_time": await meter.measure(
            lambda: closed_loop(flow, options.latency_count, 1, 60)
        ),
        "open_loop": {},
    }
    for rate in options.rates:
        figures["open_loop"][f"{rate:g}_per_s"] = await meter.measure(
            lambda rate=rate: open_loop(flow, rate, options.phase_s, options.drain_s)  # type: ignore[misc]
        )
    figures["sustainable"] = await highest_sustainable(flow, search)
    figures["capacity"] = await meter.measure(
        lambda: closed_loop(flow, options.count, options.concurrency, options.drain_s)
    )
    return figures


def fresh_stack() -> BenchStack:
    """The benchmark's Kafka and PostgreSQL, created anew: migrated, topics, the demo directory."""
    stack = bench_stack()
    stack.wipe()
    python = stack.env()["FT_PYTHON"]
    stack.run("bash", "deploy/local/stack.sh", "up")
    stack.run(python, "-m", "shared.admin", "migrate")
    stack.run(python, "-m", "shared.admin", "create-topics")
    stack.run(python, "-m", "services.referral.load_directory", "deploy/demo/directory.json")
    return stack


async def main(options: Options) -> dict[str, Any]:
    stack = fresh_stack()
    database = DatabaseCounters(stack.database_url)
    await database.prepare()
    work_dir = STATE_DIR / "services"
    work_dir.mkdir(parents=True, exist_ok=True)
    processes = BenchServices(stack, work_dir, ports=BENCH_PORTS, webhook_port=BENCH_WEBHOOK_PORT)
    infrastructure = {
        "kafka": pid_file(STATE_DIR / "kafka" / "kafka.pid"),
        "postgres": await postmaster_pid(stack.database_url),
        "zipkin": pid_file(STATE_DIR / "zipkin" / "zipkin.pid"),
        LOAD_GENERATOR: os.getpid(),
    }
    result: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.python_implementation()} {platform.python_version()}",
        "load_average_at_start": list(os.getloadavg()),
        "postgres": "durable (fsync, synchronous_commit, full_page_writes on)",
    }
    offsets = KafkaOffsets(stack.bootstrap_servers)
    await offsets.start()
    try:
        for name in BENCH_PORTS:
            await processes.start(name)
        roots = {name: p.pid for name, p in processes.processes.items()} | infrastructure
        meter = Meter(
            roots=roots,
            offsets=offsets,
            database=database,
            trace_files=[processes.trace_file(name) for name in BENCH_PORTS],
        )
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{BENCH_PORTS['referral']}",
            timeout=120,
            headers=as_hospital("sikao-hospital"),
            limits=httpx.Limits(max_connections=500, max_keepalive_connections=50),
        ) as api:
            fast_track = FastTrackFlow(api)
            async with webhook_process(BENCH_WEBHOOK_PORT, fast_track):
                if options.soak_minutes:
                    await closed_loop(fast_track, options.warmup, options.concurrency, 120)
                    return result | {
                        "soak": await soak(
                            fast_track, meter, options.soak_rate, options.soak_minutes
                        )
                    }
                result["fast_track"] = await phases(fast_track, meter, options, options.search)
        # The baseline runs alone on the broker: the services are stopped first.
        processes.stop_all()
        baseline = AiokafkaTwoHops(stack.bootstrap_servers)
        await baseline.start()
        try:
            baseline_meter = Meter(
                roots={k: infrastructure[k] for k in ("kafka", LOAD_GENERATOR)},
                offsets=offsets,
            )
            result["baseline_aiokafka_two_hops"] = await phases(
                baseline, baseline_meter, options, options.baseline_search
            )
        finally:
            await baseline.stop()
        result["ratio_fast_track_over_baseline"] = ratios(
            result["fast_track"], result["baseline_aiokafka_two_hops"]
        )
        result["load_average_at_end"] = list(os.getloadavg())
        return result
    finally:
        await offsets.stop()
        processes.stop_all()
        stack.run("bash", "deploy/local/stack.sh", "down")


def parse_options(argv: list[str] | None = None) -> tuple[Options, Path]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rates", default="10,50", help="open-loop rates per second (10,50,200)")
    parser.add_argument("--phase-seconds", type=float, default=10)
    parser.add_argument("--drain-seconds", type=float, default=600)
    parser.add_argument("-n", "--count", type=int, default=300, help="capacity phase referrals")
    parser.add_argument("-c", "--concurrency", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument(
        "--idle-seconds", type=float, default=10, help="CPU measured with no traffic this long"
    )
    parser.add_argument("--latency-count", type=int, default=60)
    parser.add_argument("--search-probes", type=int, default=5)
    parser.add_argument("--probe-seconds", type=float, default=10)
    parser.add_argument("--p99-limit-ms", type=float, default=1000, help="sustained if under")
    parser.add_argument("--soak", type=float, default=0, metavar="MINUTES")
    parser.add_argument("--soak-rate", type=float, default=10)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)

    def search(start: float, maximum: float) -> SearchSettings:
        return SearchSettings(
            start_rate=start,
            max_rate=maximum,
            probe_s=args.probe_seconds,
            probes=args.search_probes,
            p99_limit_ms=args.p99_limit_ms,
            drain_s=args.drain_seconds,
        )

    options = Options(
        rates=[float(r) for r in args.rates.split(",") if r],
        phase_s=args.phase_seconds,
        drain_s=args.drain_seconds,
        warmup=args.warmup,
        idle_s=args.idle_seconds,
        latency_count=args.latency_count,
        count=args.count,
        concurrency=args.concurrency,
        search=search(10, 400),
        baseline_search=search(50, 800),
        soak_minutes=args.soak,
        soak_rate=args.soak_rate,
    )
    return options, args.output or (SOAK_RESULTS if args.soak else RESULTS)


if __name__ == "__main__":
    options, output = parse_options()
    outcome = asyncio.run(main(options))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(outcome, indent=2) + "\n", encoding="utf-8")
    print(report(outcome))
    print(f"written to {output}")
