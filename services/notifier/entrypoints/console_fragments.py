"""The notifier's parts of the operators' console (``/app/console/notifier/...``, through the
proxy, for operators only: shared/auth.py ``OperatorDep``; a hospital's key or person: 403).

The notifier alone knows its undelivered pages (deliveries that finally failed) and who
replayed them (``replay_audit``), in its own schema: it serves them here as table rows the
web app's console page puts under its own translated headings (docs/architecture.md, "The
operators' console"). Rows hold ids, channels, counts, times (Bangkok) and the channel's error: no
message text, no address, no patient.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from services.notifier.adapters import console_views, delivery_views
from services.notifier.domain.errors import NotAFailedDelivery, UnknownDelivery
from services.notifier.entrypoints.deps import DispatcherDep, PagesDep
from services.notifier.service.replay import replay
from shared.auth import OperatorDep
from shared.province_time import PROVINCE_ZONE
from shared.runtime import RuntimeDep

router = APIRouter(include_in_schema=False)

PREFIX = "/app/console/notifier"


async def _dead_letter_rows(
    request: Request, runtime: RuntimeDep, pages: PagesDep, *, replayed: list[str]
) -> HTMLResponse:
    async with runtime.pool.acquire() as connection:
        failed = await delivery_views.dead_letters(connection)
    return pages.TemplateResponse(
        request,
        "console/dead_letter_rows.html",
        {"failed": failed, "replayed": replayed, "zone": PROVINCE_ZONE},
    )


@router.get(PREFIX + "/dead-letters", response_class=HTMLResponse)
async def dead_letter_rows(
    request: Request, runtime: RuntimeDep, pages: PagesDep, _: OperatorDep
) -> HTMLResponse:
    """The deliveries that finally failed, newest first, as ``<tbody>`` rows to tick."""
    return await _dead_letter_rows(request, runtime, pages, replayed=[])


@router.post(PREFIX + "/replay", response_class=HTMLResponse)
async def replay_selected(
    request: Request,
    runtime: RuntimeDep,
    pages: PagesDep,
    dispatcher: DispatcherDep,
    operator: OperatorDep,
    delivery: Annotated[list[str], Form()],
) -> HTMLResponse:
    """Replays each ticked delivery (each audited, shared with ``POST /deliveries/{id}/replay``)
    and answers with the rows left; one that is no longer failed is skipped, not an error."""
    replayed = []
    async with runtime.pool.acquire() as connection:
        for delivery_id in delivery[:100]:
            try:
                await replay(connection, delivery_id=delivery_id, by=operator.who)
            except (UnknownDelivery, NotAFailedDelivery):
                continue
            replayed.append(delivery_id)
    dispatcher.wake()
    return await _dead_letter_rows(request, runtime, pages, replayed=replayed)


@router.get(PREFIX + "/audit", response_class=HTMLResponse)
async def replay_audit_rows(
    request: Request,
    runtime: RuntimeDep,
    pages: PagesDep,
    _: OperatorDep,
    referral: str | None = None,
    hospital: str | None = None,
    by: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> HTMLResponse:
    """Who replayed which delivery of which referral, and when, searched like the console's
    audit log (``by``: ``user:<id>`` of the web app, or ``operator:<name>`` of a key)."""
    async with runtime.pool.acquire() as connection:
        replays = await console_views.replays(
            connection,
            referral_id=referral or None,
            hospital=hospital or None,
            by=by or None,
            since=since,
            until=until,
        )
    return pages.TemplateResponse(
        request, "console/replay_rows.html", {"replays": replays, "zone": PROVINCE_ZONE}
    )
