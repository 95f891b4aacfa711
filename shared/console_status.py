"""The operators' console's view of one service's own outbox, as each service reports it.

A service's outbox lives in its own schema, which no other service reads (services meet only
on Kafka). So each service serves its own row of the console's outbox table at
``/app/console/<service>/outbox``: the notifier and telemedicine through the proxy, for the
signed-in operator the proxy vouches for (shared/web_identity.py; a hospital's key or
person gets 403, shared/auth.py); the referral service renders
the same row into its console page. The figures are the sampler's last readings (the same
``fasttrack_outbox_*`` gauges ``/metrics`` reports, shared/metrics/outbox.py): nothing is
queried twice. A row is numbers and a service name: language-free, the page has the headings.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse

from shared.auth import OperatorDep
from shared.metrics.outbox import OutboxBacklog
from shared.runtime import RuntimeDep, ServiceRuntime

router = APIRouter(include_in_schema=False)


def outbox_row(runtime: ServiceRuntime) -> str:
    """``<tr>`` (HTML, every value escaped) of the service's outbox backlog and the age of its
    oldest unpublished row ("-" while no reading could be taken)."""
    source = runtime.sampler.source(OutboxBacklog)
    backlog = source.backlog.readings() if source else []
    oldest = source.oldest_age.readings() if source else []
    count = f"{int(backlog[0][1])}" if backlog else "-"
    age = f"{oldest[0][1]:.1f} s" if oldest else "-"
    name, count, age = escape(runtime.name), escape(count), escape(age)
    return (
        f'<tr id="outbox-{name}" data-service="{name}"><th scope="row">{name}</th>'
        f'<td class="backlog">{count}</td><td class="oldest">{age}</td></tr>'
    )


@router.get("/app/console/{service}/outbox", response_class=HTMLResponse)
async def outbox_fragment(service: str, runtime: RuntimeDep, _: OperatorDep) -> HTMLResponse:
    """For operators (signed in, through the proxy; or an operator key); 403 for hospitals."""
    if service != runtime.name:
        raise HTTPException(404, "Not this service")
    return HTMLResponse(outbox_row(runtime))
