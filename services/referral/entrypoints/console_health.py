"""The console's health page (``/app/console/health``): each hospital connector and its last
message, consumer lag per group and partition, each service's outbox backlog and the depth of
every dead-letter topic. For operators only.

Every figure is one ``/metrics`` already reports (docs/operations.md), read from the same place:
the connectors from the inbox (adapters/operations_gauges.py), lag and dead-letter depth from
this service's sampler (it reads every ``fasttrack-`` group's offsets from Kafka itself), the
outbox of each service from that service (shared/console_status.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.referral.adapters import console_queries
from services.referral.adapters.operations_gauges import hospital_connectors
from services.referral.domain.console import is_silent, silence_limit
from services.referral.entrypoints.deps import OperatorPersonDep, render
from shared.console_status import outbox_row
from shared.metrics.kafka_offsets import KafkaOffsets
from shared.runtime import RuntimeDep

router = APIRouter(include_in_schema=False)

# The services whose outbox rows come from themselves, through the proxy.
OTHER_SERVICES = ("telemedicine", "notifier")


@dataclass(frozen=True)
class ConnectorView:
    hospital: str
    name: str
    last_message: datetime | None
    messages_7d: int
    over_rest: bool | None
    silent: bool


@router.get("/app/console/health", response_class=HTMLResponse)
async def health_page(
    request: Request, runtime: RuntimeDep, person: OperatorPersonDep
) -> HTMLResponse:
    now = datetime.now(UTC)
    async with runtime.pool.acquire() as connection:
        heard = {c.hospital: c for c in await hospital_connectors(connection)}
        directory = await console_queries.directory_hospitals(connection)
    names = dict(directory)
    connectors = [
        ConnectorView(
            hospital=hospital,
            name=names.get(hospital, hospital),
            last_message=c.last_message if c else None,
            messages_7d=c.messages_7d if c else 0,
            over_rest=c.last_over_rest if c else None,
            silent=is_silent(
                last_message=c.last_message if c else None,
                messages_7d=c.messages_7d if c else 0,
                now=now,
            ),
        )
        for hospital in sorted({*names, *heard})
        for c in [heard.get(hospital)]
    ]
    offsets = runtime.sampler.source(KafkaOffsets)
    lag = sorted(
        (labels["group"], labels["topic"], int(labels["partition"]), int(value))
        for labels, value in (offsets.lag.readings() if offsets else [])
    )
    dead_letters = sorted(
        (labels["topic"], int(value))
        for labels, value in (offsets.dead_letters.readings() if offsets else [])
    )
    return render(
        request,
        "app/console/health.html",
        person=person,
        connectors=connectors,
        silence_limit=silence_limit,
        lag=lag,
        lag_known=offsets is not None and bool(offsets.lag.readings()),
        dead_letters=dead_letters,
        own_outbox=outbox_row(runtime),
        other_services=OTHER_SERVICES,
    )
