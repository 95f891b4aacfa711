"""End-to-end benchmark: referrals through the real path, against a bare aiokafka baseline.

Fast Track path (two Kafka hops, three services, PostgreSQL outbox/inbox at every hop):
  POST /fhir/$process-message -> referral -> fasttrack.referral.events.v1 -> telemedicine
  -> fasttrack.notification.requests.v1 -> notifier -> webhook (the neurologist's page).
Baseline, on the same broker in the same run: producer -> topic 1 -> consumer A, which produces
-> topic 2 -> consumer B (raw aiokafka, no database, no HTTP).

Two phases per path, on one monotonic clock:
- latency: referrals one at a time (no queueing), from just before the POST (or the baseline's
  send) to arrival at the webhook (or consumer B): p50/p95/p99;
- throughput: N referrals offered C at a time; referrals per second until the last one arrives.
Usage: python -m bench.e2e_latency [--latency-count L] [-n N] [-c C]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.latency import latency_percentiles
from tests.e2e.harness import ServiceProcesses, WebhookReceiver, serve_webhook
from tests.support import ROOT, TestStack, as_hospital, referral_bundle

BENCH_PORTS = {"referral": 38001, "telemedicine": 38002, "notifier": 38003}
BENCH_WEBHOOK_PORT = 38099
RESULTS = ROOT / "bench" / "results" / "e2e_latency.json"


def summarize(latencies_s: list[float], wall_s: float) -> dict[str, float]:
    return {
        **latency_percentiles(latencies_s),
        "throughput_per_s": round(len(latencies_s) / wall_s, 1),
    }


async def fast_track_run(
    api: httpx.AsyncClient, webhook: WebhookReceiver, count: int, concurrency: int
) -> dict[str, float]:
    """Concurrency 1 waits for each page before the next POST: latency without queueing."""
    started: dict[str, float] = {}
    pages: dict[str, float] = {}
    semaphore = asyncio.Semaphore(concurrency)

    def collect_pages() -> None:
        for note in webhook.received:
            referral = note.body["referral"]
            if referral in started and "Telestroke" in note.body["text"]:
                pages.setdefault(referral, note.received_at)

    async def wait_for(wanted: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while len(pages) < wanted and time.monotonic() < deadline:
            collect_pages()
            await asyncio.sleep(0.002)

    async def post_one() -> None:
        bundle, referral_id, _ = referral_bundle(teleconsult=True)
        async with semaphore:
            started[referral_id] = time.monotonic()
            response = await api.post(
                "/fhir/$process-message",
                json=bundle,
                headers={"Content-Type": "application/fhir+json"},
            )
            response.raise_for_status()
            if concurrency == 1:
                await wait_for(len(started), 30)

    begin = time.monotonic()
    await asyncio.gather(*(post_one() for _ in range(count)))
    await wait_for(count, 300)
    if len(pages) < count:
        raise RuntimeError(f"only {len(pages)} of {count} referrals reached the webhook")
    wall = max(pages.values()) - begin
    return summarize([pages[r] - started[r] for r in pages], wall)


async def baseline_run(bootstrap: str, count: int, concurrency: int) -> dict[str, float]:
    run = secrets.token_hex(4)
    hop1, hop2 = f"bench.{run}.hop1", f"bench.{run}.hop2"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(hop1, 3, 1), NewTopic(hop2, 3, 1)])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    relay_producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    consumer_a = AIOKafkaConsumer(
        hop1,
        bootstrap_servers=bootstrap,
        group_id=f"bench-a-{run}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    consumer_b = AIOKafkaConsumer(
        hop2,
        bootstrap_servers=bootstrap,
        group_id=f"bench-b-{run}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    for client in (producer, relay_producer, consumer_a, consumer_b):
        await client.start()
    arrived: dict[str, float] = {}
    payload = json.dumps(referral_bundle(teleconsult=True)[0]).encode()

    async def hop_a() -> None:
        async for record in consumer_a:
            await relay_producer.send_and_wait(hop2, record.value, key=record.key)
            await consumer_a.commit()

    async def hop_b() -> None:
        async for record in consumer_b:
            arrived[record.key.decode()] = time.monotonic()
            await consumer_b.commit()

    tasks = [asyncio.create_task(hop_a()), asyncio.create_task(hop_b())]
    started: dict[str, float] = {}
    semaphore = asyncio.Semaphore(concurrency)

    async def send_one(n: int) -> None:
        key = f"{run}-{n}"
        async with semaphore:
            started[key] = time.monotonic()
            await producer.send_and_wait(hop1, payload, key=key.encode())
            deadline = time.monotonic() + 30
            while concurrency == 1 and key not in arrived and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.002)

    try:
        begin = time.monotonic()
        await asyncio.gather(*(send_one(n) for n in range(count)))
        deadline = time.monotonic() + 120
        while len(arrived) < count and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        wall = max(arrived.values()) - begin
        return summarize([arrived[k] - started[k] for k in arrived], wall)
    finally:
        for task in tasks:
            task.cancel()
        for client in (producer, relay_producer, consumer_a, consumer_b):
            await client.stop()
        await admin.delete_topics([hop1, hop2])
        await admin.close()


def combine(latency: dict[str, float], throughput: dict[str, float]) -> dict[str, float]:
    """Latency figures from the one-at-a-time phase, throughput from the loaded phase."""
    return {
        **{k: v for k, v in latency.items() if k != "throughput_per_s"},
        "throughput_per_s": throughput["throughput_per_s"],
        "loaded_p50_ms": throughput["p50_ms"],
        "loaded_p99_ms": throughput["p99_ms"],
    }


async def main(count: int, concurrency: int, warmup: int, latency_count: int) -> dict[str, Any]:
    stack = TestStack(
        state_dir=ROOT / ".local-stack" / "bench",
        kafka_port=39092,
        kafka_controller_port=39093,
        kafka_hospital_port=39094,
        postgres_port=35432,
        zipkin_port=39411,
        durable=True,
    )
    python = stack.env()["FT_PYTHON"]
    stack.run("bash", "deploy/local/stack.sh", "up")
    stack.run(python, "-m", "shared.admin", "migrate")
    stack.run(python, "-m", "shared.admin", "create-topics")
    stack.run(python, "-m", "services.referral.load_directory", "deploy/demo/directory.json")
    webhook = WebhookReceiver()
    server, server_task = await serve_webhook(webhook, BENCH_WEBHOOK_PORT)
    work_dir = ROOT / ".local-stack" / "bench" / "services"
    work_dir.mkdir(parents=True, exist_ok=True)
    processes = ServiceProcesses(
        stack, work_dir, ports=BENCH_PORTS, webhook_port=BENCH_WEBHOOK_PORT
    )
    try:
        for name in BENCH_PORTS:
            await processes.start(name)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{BENCH_PORTS['referral']}",
            timeout=60,
            headers=as_hospital("sikao-hospital"),
        ) as api:
            await fast_track_run(api, webhook, warmup, concurrency)  # joins groups, warms caches
            fast_track = combine(
                await fast_track_run(api, webhook, latency_count, 1),
                await fast_track_run(api, webhook, count, concurrency),
            )
        bootstrap = stack.bootstrap_servers
        await baseline_run(bootstrap, warmup, concurrency)
        baseline = combine(
            await baseline_run(bootstrap, latency_count, 1),
            await baseline_run(bootstrap, count, concurrency),
        )
    finally:
        processes.stop_all()
        server.should_exit = True
        await server_task
        stack.run("bash", "deploy/local/stack.sh", "down")
    ratio = {
        key: round(fast_track[key] / baseline[key], 2)
        for key in ("p50_ms", "p95_ms", "p99_ms", "throughput_per_s", "loaded_p50_ms")
    }
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}",
        "latency_phase_referrals": latency_count,
        "throughput_phase_referrals": count,
        "concurrency": concurrency,
        "fast_track": fast_track,
        "baseline_aiokafka_two_hops": baseline,
        "ratio_fast_track_over_baseline": ratio,
    }


def report(result: dict[str, Any]) -> str:
    lines = [
        f"latency: {result['latency_phase_referrals']} referrals one at a time; throughput: "
        f"{result['throughput_phase_referrals']} offered {result['concurrency']} at a time",
        f"{'':28}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'per s':>10}{'loaded p50':>12}",
    ]
    for label, key in (
        ("Fast Track (HTTP->webhook)", "fast_track"),
        ("aiokafka two hops", "baseline_aiokafka_two_hops"),
        ("ratio", "ratio_fast_track_over_baseline"),
    ):
        row = result[key]
        lines.append(
            f"{label:28}{row['p50_ms']:>10}{row['p95_ms']:>10}{row['p99_ms']:>10}"
            f"{row['throughput_per_s']:>10}{row['loaded_p50_ms']:>12}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--count", type=int, default=300)
    parser.add_argument("-c", "--concurrency", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--latency-count", type=int, default=60)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    outcome = asyncio.run(main(args.count, args.concurrency, args.warmup, args.latency_count))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(outcome, indent=2) + "\n", encoding="utf-8")
    print(report(outcome))
    print(f"written to {args.output}")
