"""The plan of a chaos run, its schedule of faults, and the figures it reports."""

from __future__ import annotations

import asyncio
import contextlib
import platform
import random
import statistics
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench.chaos.audit import audit, wait_until_quiet
from bench.chaos.sender import Sender
from bench.chaos.stack import SERVICES, ChaosStack, Recovery

QUIET_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Plan:
    service_kills: int
    broker_restarts: int
    postgres_stops: int
    # Seconds of normal work between two faults, drawn uniformly.
    pause_s: tuple[float, float] = (1.0, 4.0)
    rate_per_s: float = 3.0
    concurrency: int = 3
    # The broker's JVM with the JIT's first tier only (tests/support.py): the short run in the
    # test suite starts it twice; the long run's recovery figures are of Kafka as deployed.
    quick_kafka_start: bool = False


# `make test`: each service killed once, one broker restart, one immediate stop.
SHORT = Plan(
    service_kills=3,
    broker_restarts=1,
    postgres_stops=1,
    pause_s=(1.0, 2.5),
    quick_kafka_start=True,
)
# Issue 8's "done when": at least 100 kills, 3 broker restarts and 10 immediate stops.
LONG = Plan(service_kills=102, broker_restarts=3, postgres_stops=10, rate_per_s=2.0)

KILL, BROKER, POSTGRES = "kill", "broker", "postgres"


def schedule(plan: Plan, rng: random.Random) -> list[str]:
    """The faults in random order: "kill <service>", "broker", "postgres". Kills go round the
    services in shuffled rounds, so each is killed about as often as the others."""
    victims: list[str] = []
    while len(victims) < plan.service_kills:
        victims.extend(rng.sample(SERVICES, len(SERVICES)))
    faults = [f"{KILL} {name}" for name in victims[: plan.service_kills]]
    faults += [BROKER] * plan.broker_restarts + [POSTGRES] * plan.postgres_stops
    rng.shuffle(faults)
    return faults


async def do_fault(chaos: ChaosStack, fault: str) -> Recovery:
    if fault == BROKER:
        return await chaos.restart_broker()
    if fault == POSTGRES:
        return await chaos.stop_postgres_immediately()
    return await chaos.kill_service(fault.removeprefix(f"{KILL} "))


async def run(plan: Plan, work_dir: Path, *, seed: int | None = None) -> dict[str, Any]:
    """Starts the chaos stack, offers referrals through the faults, audits, stops the stack."""
    seed = seed if seed is not None else random.randrange(2**32)
    rng = random.Random(seed)
    chaos = ChaosStack(work_dir, quick_kafka_start=plan.quick_kafka_start)
    began = time.monotonic()
    try:
        await chaos.up()
        sender = Sender(
            chaos.referral_url, concurrency=plan.concurrency, rate_per_s=plan.rate_per_s
        )
        stop = asyncio.Event()
        sending = asyncio.create_task(sender.run(stop))
        recoveries: list[Recovery] = []
        try:
            for fault in schedule(plan, rng):
                await asyncio.sleep(rng.uniform(*plan.pause_s))
                recoveries.append(await do_fault(chaos, fault))
            await asyncio.sleep(plan.pause_s[1])
        finally:
            stop.set()
            await sending
        pool = await asyncpg.create_pool(chaos.stack.database_url, min_size=1, max_size=2)
        try:
            quiet, quiet_after_s = await wait_until_quiet(
                pool, chaos.stack.bootstrap_servers, timeout_s=QUIET_TIMEOUT_S
            )
            accepted = {o.referral_id: o.teleconsult for o in sender.offers if o.accepted_at}
            findings = await audit(pool, accepted, chaos.webhook)
        finally:
            await pool.close()
    finally:
        with contextlib.suppress(Exception):
            await chaos.down()
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}",
        "seed": seed,
        "plan": asdict(plan),
        "duration_s": round(time.monotonic() - began, 1),
        "faults": dict(Counter(r.fault for r in recoveries)),
        "services_exited_after_fault": chaos.exits_after_fault,
        "referrals": {
            "offered": len(sender.offers),
            "accepted": len(accepted),
            "refused_4xx": [o.refused for o in sender.offers if o.refused],
            "given_up": sum(1 for o in sender.offers if not o.accepted_at and not o.refused),
            "retried": sum(1 for o in sender.offers if o.attempts > 1),
            "answers": sender.answers(),
        },
        "recovery_s": recovery_figures(recoveries, sender),
        "faults_in_order": [
            {
                "fault": r.fault,
                "at_s": round(r.started_at - began, 1),
                "back_s": round(r.outage_s, 1),
                "healthy_s": round(r.healthy_s, 1),
            }
            for r in recoveries
        ],
        "quiet": {
            "reached": quiet.reached,
            "after_s": round(quiet_after_s, 1),
            "unsent_outbox": quiet.unsent_outbox,
            "consumer_lag": quiet.lag,
            "pending_deliveries": quiet.pending_deliveries,
        },
        "audit": findings.as_dict(),
    }


def recovery_figures(recoveries: list[Recovery], sender: Sender) -> dict[str, Any]:
    """Per kind of fault: seconds until the part was back and ready (``back``), until every
    service answered /health (``healthy``) and until a referral was answered 200 again
    (``referral_accepted``), as min / median / max over the faults of that kind."""
    by_fault: dict[str, dict[str, list[float]]] = {}
    for recovery in recoveries:
        figures = by_fault.setdefault(
            recovery.fault, {"back": [], "healthy": [], "referral_accepted": []}
        )
        figures["back"].append(recovery.outage_s)
        figures["healthy"].append(recovery.healthy_s)
        accepted = sender.first_accept_after(recovery.started_at)
        if accepted is not None:
            figures["referral_accepted"].append(accepted)
    return {
        fault: {name: _spread(values) for name, values in figures.items() if values}
        for fault, figures in sorted(by_fault.items())
    }


def _spread(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "min": round(min(values), 1),
        "median": round(statistics.median(values), 1),
        "max": round(max(values), 1),
    }


def summary(result: dict[str, Any]) -> str:
    referrals, found, quiet = result["referrals"], result["audit"], result["quiet"]
    lines = [
        f"faults: {result['faults']} (seed {result['seed']}, {result['duration_s']} s)",
        f"referrals: {referrals['offered']} offered, {referrals['accepted']} answered 200, "
        f"{referrals['retried']} retried, {len(referrals['refused_4xx'])} refused, "
        f"{referrals['given_up']} given up; answers {referrals['answers']}",
        f"effects checked: {found['effects_checked']}",
        f"lost: {found['lost_total']} {found['lost']}; "
        f"duplicated: {found['duplicated_total']} {found['duplicated']}",
        f"quiet: {quiet['reached']} after {quiet['after_s']} s (outbox {quiet['unsent_outbox']}, "
        f"lag {quiet['consumer_lag']}, pending deliveries {quiet['pending_deliveries']})",
    ]
    for fault, figures in result["recovery_s"].items():
        parts = ", ".join(
            f"{name} {f['median']} s (max {f['max']}, n {f['n']})" for name, f in figures.items()
        )
        lines.append(f"  {fault}: {parts}")
    return "\n".join(lines)
