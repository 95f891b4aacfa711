"""Liveness and readiness, for operators and orchestrators.

- ``GET /health/live``: 200 while the process answers at all (its event loop is not wedged).
  An orchestrator restarts a service only when this fails; a database or broker outage never
  makes it fail, so an outage does not restart every pod.
- ``GET /health/ready``: 200 when the database answers, the Kafka cluster answers and no
  partition the service consumes has stopped moving (a record stuck in processing, or lag with
  no progress, for longer than ``FT_CONSUMER_STALL_AFTER_S``); else 503 with what is wrong.
  While the service starts it is 503 with ``"status": "starting"``.
- ``GET /health``: the same as ``/health/ready`` (what existing checks and scripts call).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict
from typing import Any

from aiokafka import TopicPartition
from fastapi import APIRouter, Request
from faststream.kafka import KafkaBroker

from shared.messaging.progress import PartitionProgress
from shared.startup import StartupState
from shared.web import FhirResponse

router = APIRouter()


@router.get("/health/live", response_class=FhirResponse)
async def live(request: Request) -> FhirResponse:
    return FhirResponse({"status": "ok", "service": request.app.title})


@router.get("/health/ready", response_class=FhirResponse)
@router.get("/health", response_class=FhirResponse)
async def ready(request: Request) -> FhirResponse:
    runtime = request.app.state.runtime
    report = await readiness(
        name=runtime.name,
        state=runtime.startup,
        pool=runtime.pool,
        broker=runtime.broker,
        progress=runtime.guard.progress,
    )
    return FhirResponse(report, status_code=200 if report["status"] == "ok" else 503)


async def readiness(
    *,
    name: str,
    state: StartupState,
    pool: Any,
    broker: KafkaBroker,
    progress: PartitionProgress,
) -> dict[str, Any]:
    if not state.connected:
        return {
            "status": "starting",
            "service": name,
            "database": state.database,
            "kafka": state.kafka,
            "consumers": {"status": state.consumers},
            "waiting_on": state.last_error,
        }
    checks: dict[str, Any] = {
        "database": await _database(pool),
        "kafka": "ok" if await broker.ping(timeout=2) else "unavailable",
        "consumers": _consumers(state, broker, progress),
    }
    healthy = (
        checks["database"] == "ok"
        and checks["kafka"] == "ok"
        and checks["consumers"]["status"] in ("ok", "joining")
    )
    return {"status": "ok" if healthy else "degraded", "service": name, **checks}


async def _database(pool: Any) -> str:
    try:
        async with asyncio.timeout(2):
            await pool.fetchval("SELECT 1")
    except Exception:
        return "unavailable"
    return "ok"


def _consumers(
    state: StartupState, broker: KafkaBroker, progress: PartitionProgress
) -> dict[str, Any]:
    """Joining (a group rebalance takes seconds) is ready for HTTP; joining for longer than
    the stall threshold, or a partition that stopped moving, is not."""
    if state.consumers != "ok":
        joining_for = time.monotonic() - (state.joining_since or time.monotonic())
        status = "joining" if joining_for <= progress.stall_after_s else "not-started"
        return {"status": status, "joining_for_s": round(joining_for, 1)}
    assigned: set[tuple[str, int]] = set()
    end_offsets: dict[tuple[str, int], int] = {}
    for subscriber in broker.subscribers:
        consumer = getattr(subscriber, "consumer", None)
        if consumer is None:
            continue
        for partition in consumer.assignment():
            key = (partition.topic, partition.partition)
            assigned.add(key)
            end = consumer.highwater(TopicPartition(*key))
            if end is not None:
                end_offsets[key] = end
    stalled = progress.stalled(assigned, end_offsets)
    return {
        "status": "stalled" if stalled else "ok",
        "assigned_partitions": len(assigned),
        "stalled": [asdict(partition) for partition in stalled],
    }
