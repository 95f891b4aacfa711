"""The live stream of an open page of the web app (Server-Sent Events, one per page).

Every step on the timeline of a referral the person's hospital sends or receives (an operator:
the province's) comes as ``event: referral-changed`` with ``data`` {"referral_id", "event",
"status", "requester", "owner"} and an ``id`` (the feed position). A fresh page asks from the
position it was rendered at (``?after=``), so a step committed between its render and the
stream's start is not lost; a page that reconnects sends ``Last-Event-ID`` and gets what it
missed. Either way up to ``MAX_REPLAY`` steps; further behind, it gets ``event: reload`` and
re-reads what it shows. The stream sends a heartbeat comment when idle (every
``FT_REFERRAL_PAGE_HEARTBEAT_S``, 15 s) and ends at the heartbeat after the person's session is
revoked or expires (the browser reconnects and is sent to the sign-in page, which is not an
event stream: EventSource gives up), and at once when the service begins to stop (the browser
reconnects to another instance).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from services.referral.adapters import page_events
from services.referral.domain.accounts import SignedInPerson
from services.referral.entrypoints.deps import (
    HospitalScopeDep,
    PageFeedDep,
    PageHeartbeatDep,
    PersonDep,
)
from services.referral.service import sign_in
from shared.db.pool import Connection
from shared.runtime import RuntimeDep, ServiceRuntime
from shared.serving import SERVER_STOP

router = APIRouter()

REFERRAL_CHANGED = "referral-changed"
RELOAD = "reload"
# A page further behind than this re-reads its content instead of replaying step by step.
MAX_REPLAY = 200
_BATCH = 100


@router.get("/app/events", response_class=EventSourceResponse, include_in_schema=False)
async def page_events_stream(
    request: Request,
    runtime: RuntimeDep,
    feed: PageFeedDep,
    heartbeat_s: PageHeartbeatDep,
    person: PersonDep,
    scope: HospitalScopeDep,
    last_event_id: Annotated[str | None, Header()] = None,
    rendered: Annotated[int | None, Query(alias="after", ge=0)] = None,
) -> AsyncIterator[ServerSentEvent]:
    asked = _position(last_event_id)
    after = rendered if asked is None else asked
    async with runtime.pool.acquire() as connection:
        latest = await page_events.latest_position(connection)
        if after is not None and not await _replayable(
            connection, scope=scope, after=after, latest=latest
        ):
            after = None
    # Sent at once, so the page knows it is connected; and how soon to come back if cut off.
    yield ServerSentEvent(comment="connected", retry=3000)
    if after is None:
        # A page that did not say where it was rendered starts now; one too far behind
        # re-reads what it shows.
        if last_event_id is not None or rendered is not None:
            yield ServerSentEvent(data={}, event=RELOAD, id=str(latest))
        after = latest
    with feed.subscribe() as changed, SERVER_STOP.wakes(changed):
        while not SERVER_STOP.begun and not await request.is_disconnected():
            changed.clear()  # before reading: a step committed during the read wakes us again
            async with runtime.pool.acquire() as connection:
                events = await page_events.events_after(
                    connection, hospital_id=scope, after=after, limit=_BATCH
                )
            for event in events:
                yield ServerSentEvent(
                    data=event.data(), event=REFERRAL_CHANGED, id=str(event.position)
                )
                after = event.position
            if len(events) == _BATCH:
                continue
            try:
                await asyncio.wait_for(changed.wait(), heartbeat_s)
            except TimeoutError:
                yield ServerSentEvent(comment="heartbeat")
            # Revoked (signed out, or by an admin) or expired: nothing more for this page.
            if not SERVER_STOP.begun and not await _session_alive(runtime, person):
                return


async def _replayable(
    connection: Connection, *, scope: str | None, after: int, latest: int
) -> bool:
    """Whether what came after ``after`` is few enough to send step by step (an id the feed
    has not reached, from another database or made up, is not)."""
    if after > latest:
        return False
    missed = await page_events.events_after(
        connection, hospital_id=scope, after=after, limit=MAX_REPLAY + 1
    )
    return len(missed) <= MAX_REPLAY


async def _session_alive(runtime: ServiceRuntime, person: SignedInPerson) -> bool:
    async with runtime.pool.acquire() as connection:
        return await sign_in.person_of_session(connection, person.session_id) is not None


def _position(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value)
