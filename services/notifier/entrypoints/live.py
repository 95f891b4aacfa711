"""In-app live events for the hospitals' web pages (Server-Sent Events).

People open ``/live`` at the web app's origin after its login: the proxy passes their signed
identity (shared/web_identity.py) and the page shows their own hospital's feed. A hospital
system asks for a ticket with its API key; the ticket opens that hospital's feed from a browser
without a login (e.g. the emergency room's screen: ``/live?ticket=...``), where EventSource
cannot send headers. Events carry ids: a page that reconnects sends ``Last-Event-ID`` and gets
what it missed. Alerts are acknowledged with one tap (templates/live.html with static/live.js).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent

from services.notifier.adapters import live_events
from services.notifier.adapters.in_app import NOTIFICATION
from services.notifier.domain.errors import UnknownReceipt
from services.notifier.entrypoints.deps import LivePagesDep, PagesDep
from services.notifier.service.outcomes import record_delivered
from shared.auth import CallerDep, caller_organization
from shared.runtime import RuntimeDep, ServiceRuntime
from shared.serving import SERVER_STOP
from shared.signed_links import ExpiredLink, InvalidLink
from shared.web_identity import MaybePersonDep

router = APIRouter()
_BATCH = 100
# How often an open page reads its feed with nothing new (and sees its visitor gone): the feed's
# listener wakes it for every event and after every reconnect; this covers a connection that
# broke unseen, and is per open page, not a cost of an idle service.
PAGE_RECHECK_S = 15.0


def feed_organization(
    request: Request, live: LivePagesDep, person: MaybePersonDep, ticket: str | None = None
) -> str:
    """The hospital whose feed is asked for: the signed-in person's, else the ticket's, else
    the API key's."""
    if person is not None:
        if person.hospital_id is None:
            raise HTTPException(403, "Live alerts are a hospital's: operators have none")
        return person.hospital_id
    if not ticket:
        return caller_organization(request)
    try:
        return live.tickets.organization_of(ticket)
    except ExpiredLink:
        raise HTTPException(401, "The live-feed ticket has expired: ask for a new one") from None
    except InvalidLink:
        raise HTTPException(401, "The live-feed ticket is not valid") from None


FeedOrganization = Annotated[str, Depends(feed_organization)]


@router.post("/live/tickets", response_class=JSONResponse)
async def issue_ticket(live: LivePagesDep, caller: CallerDep) -> JSONResponse:
    """A ticket for the caller's own hospital feed, and the URL of the page that shows it."""
    ticket = live.tickets.issue(caller)
    return JSONResponse(
        {
            "ticket": ticket,
            "events": f"{live.public_url}/live/events?ticket={ticket}",
            "page": f"{live.public_url}/live?ticket={ticket}",
            "expires_in_s": live.ticket_ttl_s,
        }
    )


@router.get("/live/events", response_class=EventSourceResponse)
async def live_event_stream(
    request: Request,
    runtime: RuntimeDep,
    live: LivePagesDep,
    organization: FeedOrganization,
    last_event_id: Annotated[str | None, Header()] = None,
) -> AsyncIterator[ServerSentEvent]:
    """The hospital's notifications and acknowledgements as they happen: events
    ``notification`` and ``acknowledged``, JSON data, ids to resume from."""
    feed = live.feed
    after = _event_id(last_event_id)
    if after is None:
        async with runtime.pool.acquire() as connection:
            after = await live_events.last_id_before(
                connection, organization=organization, before=datetime.now(UTC) - live.backlog
            )
    # Sent at once, so the page knows it is connected; and how soon to come back if cut off.
    yield ServerSentEvent(comment="connected", retry=3000)
    # Ends when the service begins to stop: the page reconnects to another instance.
    with feed.subscribe(organization) as changed, SERVER_STOP.wakes(changed):
        while not SERVER_STOP.begun and not await request.is_disconnected():
            changed.clear()  # before reading: a publication during the read wakes us again
            async with runtime.pool.acquire() as connection:
                events = await live_events.events_after(
                    connection, organization=organization, after_id=after, limit=_BATCH
                )
            for event in events:
                yield ServerSentEvent(data=event.payload, event=event.kind, id=str(event.id))
                after = event.id
                if event.kind == NOTIFICATION:
                    await _shown(runtime, delivery_id=str(event.payload["delivery"]))
            if len(events) < _BATCH:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), PAGE_RECHECK_S)


async def _shown(runtime: ServiceRuntime, *, delivery_id: str) -> None:
    """An open page was sent the alert: the in-app notification is delivered (once)."""
    async with runtime.pool.acquire() as connection, connection.transaction():
        with contextlib.suppress(UnknownReceipt):
            await record_delivered(connection, delivery_id=delivery_id, at=datetime.now(UTC))


def _event_id(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


@router.get("/live", response_class=HTMLResponse, include_in_schema=False)
async def live_page(
    request: Request, organization: FeedOrganization, pages: PagesDep
) -> HTMLResponse:
    # The ticket is checked here too, so a stale screen URL says so instead of staying blank.
    return pages.TemplateResponse(request, "live.html", {})
