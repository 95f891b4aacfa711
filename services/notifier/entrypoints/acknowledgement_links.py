"""One-tap acknowledgement from an SMS or e-mail: ``/ack/<signed token>``.

Opening the link shows the alert and a button; only pressing it (a POST) acknowledges, because
messaging apps and mail scanners open links on their own to preview them. The signed link is
the proof that it reached its recipient, who is recorded as the one who acknowledged. A page
that asks for JSON (the live feed page) gets JSON instead of HTML. The page is
templates/acknowledgement.html.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates

from services.notifier.adapters import delivery_views, repository
from services.notifier.domain.model import Acknowledgement, Channel, Delivery
from services.notifier.entrypoints.deps import (
    AcknowledgementLinksDep,
    DeliveryMetricsDep,
    PagesDep,
)
from services.notifier.service.acknowledgements import acknowledge
from services.notifier.service.links import AcknowledgementLinks
from shared.province_time import PROVINCE_ZONE
from shared.runtime import RuntimeDep, ServiceRuntime
from shared.signed_links import ExpiredLink, InvalidLink

router = APIRouter(include_in_schema=False)


class _LinkRefused(Exception):
    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


@router.get("/ack/{token}", response_class=HTMLResponse)
async def acknowledgement_page(
    token: str,
    request: Request,
    runtime: RuntimeDep,
    links: AcknowledgementLinksDep,
    pages: PagesDep,
) -> Response:
    try:
        delivery = await _delivery_of(token, runtime, links)
    except _LinkRefused as refused:
        return _error_page(pages, request, refused)
    async with runtime.pool.acquire() as connection:
        state = await delivery_views.acknowledgement_of(connection, delivery_id=delivery.id)
    return _page(pages, request, delivery, state)


@router.post("/ack/{token}")
async def acknowledge_by_link(
    token: str,
    request: Request,
    runtime: RuntimeDep,
    links: AcknowledgementLinksDep,
    metrics: DeliveryMetricsDep,
    pages: PagesDep,
) -> Response:
    try:
        delivery = await _delivery_of(token, runtime, links)
    except _LinkRefused as refused:
        return _error_page(pages, request, refused)
    # From a live page the hospital's web page acknowledged; from an SMS or e-mail, the link's
    # recipient did.
    channel = "web" if delivery.channel is Channel.IN_APP else "link"
    async with runtime.pool.acquire() as connection, connection.transaction():
        first = await acknowledge(
            connection,
            delivery_id=delivery.id,
            acknowledged_by=delivery.recipient,
            channel=channel,
            at=datetime.now(UTC),
        )
        state = await delivery_views.acknowledgement_of(connection, delivery_id=delivery.id)
    if first:
        metrics.acknowledged(channel=channel)
    if state is None:
        raise LookupError(f"delivery {delivery.id} has no acknowledgement after acknowledging")
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(
            {
                "delivery": delivery.id,
                "acknowledged": True,
                "first": first,
                "acknowledged_at": state.at.isoformat(),
                "acknowledged_by": state.by,
            }
        )
    return _page(pages, request, delivery, state)


async def _delivery_of(
    token: str, runtime: ServiceRuntime, links: AcknowledgementLinks
) -> Delivery:
    try:
        delivery_id = links.delivery_of(token)
    except ExpiredLink:
        raise _LinkRefused(
            410,
            "ลิงก์นี้หมดอายุแล้ว กรุณารับทราบใน LINE หรือระบบเว็บ / "
            "This link has expired: acknowledge in LINE or the web app.",
        ) from None
    except InvalidLink:
        raise _LinkRefused(404, "ลิงก์ไม่ถูกต้อง / This link is not valid.") from None
    async with runtime.pool.acquire() as connection:
        delivery = await repository.get_delivery(connection, delivery_id=delivery_id)
    if delivery is None:
        raise _LinkRefused(404, "ไม่พบการแจ้งเตือนนี้ / No such alert.")
    return delivery


def page_context(
    delivery: Delivery | None, state: Acknowledgement | None, *, error: str | None = None
) -> dict[str, Any]:
    """What templates/acknowledgement.html shows: the alert, the referral's link, and the
    button, the acknowledgement, or why the link does not work."""
    body = delivery.body if delivery is not None else {}
    link = str(body.get("link") or "")
    return {
        "text": str(body.get("text") or ""),
        # Only a web link opens: anything else in the body is not a place to send anyone.
        "link": link if link.startswith(("https://", "http://")) else None,
        "acknowledged": state,
        "acknowledged_at": (
            state.at.astimezone(PROVINCE_ZONE).strftime("%H:%M, %d %b %Y") if state else None
        ),
        "error": error,
    }


def _page(
    pages: Jinja2Templates, request: Request, delivery: Delivery, state: Acknowledgement | None
) -> HTMLResponse:
    return pages.TemplateResponse(request, "acknowledgement.html", page_context(delivery, state))


def _error_page(pages: Jinja2Templates, request: Request, refused: _LinkRefused) -> HTMLResponse:
    return pages.TemplateResponse(
        request,
        "acknowledgement.html",
        page_context(None, None, error=refused.message),
        status_code=refused.status_code,
    )
