"""The spoke's active referrals (``/app/referrals``): what the person's hospital sent, with each
referral's status, destination and the clock since last known well, refreshed live."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from services.referral.adapters import board_queries, page_events
from services.referral.entrypoints.deps import PersonDep, render
from shared.runtime import RuntimeDep

router = APIRouter(include_in_schema=False)


@router.get("/app/referrals", response_class=HTMLResponse)
async def sent_referrals_page(
    request: Request, runtime: RuntimeDep, person: PersonDep
) -> HTMLResponse:
    if person.hospital_id is None:
        raise HTTPException(403, "The list is for the people of a hospital")
    now = datetime.now(UTC)
    async with runtime.pool.acquire() as connection:
        # Read before the list: the page's live stream starts there (static/app/live.js).
        feed_position = await page_events.latest_position(connection)
        referrals = await board_queries.sent_referrals(
            connection, hospital_id=person.hospital_id, now=now
        )
    return render(
        request,
        "app/referrals.html",
        person=person,
        referrals=referrals,
        now=now,
        feed_position=feed_position,
    )
