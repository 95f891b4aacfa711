"""One-tap acknowledgement from an SMS or e-mail: ``/ack/<signed token>``.

Opening the link shows the alert and a button; only pressing it (a POST) acknowledges, because
messaging apps and mail scanners open links on their own to preview them. The signed link is
the proof that it reached its recipient, who is recorded as the one who acknowledged. A page
that asks for JSON (the live feed page) gets JSON instead of HTML.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from services.notifier.adapters import repository
from services.notifier.domain.model import Channel, Delivery
from services.notifier.entrypoints.deps import AcknowledgementLinksDep, DeliveryMetricsDep
from services.notifier.service.acknowledgements import acknowledge
from services.notifier.service.links import AcknowledgementLinks
from shared.province_time import PROVINCE_ZONE
from shared.runtime import RuntimeDep, ServiceRuntime
from shared.signed_links import ExpiredLink, InvalidLink

router = APIRouter(include_in_schema=False)


@router.get("/ack/{token}", response_class=HTMLResponse)
async def acknowledgement_page(
    token: str, runtime: RuntimeDep, links: AcknowledgementLinksDep
) -> Response:
    delivery = await _delivery_of(token, runtime, links)
    if isinstance(delivery, Response):
        return delivery
    async with runtime.pool.acquire() as connection:
        state = await repository.acknowledgement_of(connection, delivery_id=delivery.id)
    if state is not None:
        return _page(_acknowledged_text(state.at, state.by), delivery)
    return _page(
        '<form method="post"><button type="submit" class="ack">'
        "รับทราบ / Acknowledge</button></form>",
        delivery,
    )


@router.post("/ack/{token}")
async def acknowledge_by_link(
    token: str,
    request: Request,
    runtime: RuntimeDep,
    links: AcknowledgementLinksDep,
    metrics: DeliveryMetricsDep,
) -> Response:
    delivery = await _delivery_of(token, runtime, links)
    if isinstance(delivery, Response):
        return delivery
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
        state = await repository.acknowledgement_of(connection, delivery_id=delivery.id)
    if first:
        metrics.acknowledged(channel=channel)
    if state is None:
        raise LookupError(f"delivery {delivery.id} has no acknowledgement after acknowledging")
    at, acknowledged_by = state.at, state.by
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(
            {
                "delivery": delivery.id,
                "acknowledged": True,
                "first": first,
                "acknowledged_at": at.isoformat(),
                "acknowledged_by": acknowledged_by,
            }
        )
    return _page(_acknowledged_text(at, acknowledged_by), delivery)


async def _delivery_of(
    token: str, runtime: ServiceRuntime, links: AcknowledgementLinks
) -> Delivery | Response:
    try:
        delivery_id = links.delivery_of(token)
    except ExpiredLink:
        return _error(
            410,
            "ลิงก์นี้หมดอายุแล้ว กรุณารับทราบใน LINE หรือระบบเว็บ / "
            "This link has expired: acknowledge in LINE or the web app.",
        )
    except InvalidLink:
        return _error(404, "ลิงก์ไม่ถูกต้อง / This link is not valid.")
    async with runtime.pool.acquire() as connection:
        delivery = await repository.get_delivery(connection, delivery_id=delivery_id)
    if delivery is None:
        return _error(404, "ไม่พบการแจ้งเตือนนี้ / No such alert.")
    return delivery


def _acknowledged_text(at: datetime, acknowledged_by: str) -> str:
    local = at.astimezone(PROVINCE_ZONE).strftime("%H:%M, %d %b %Y")
    return (
        f'<p class="done" role="status">รับทราบแล้ว / Acknowledged ({html.escape(local)}, '
        f"{html.escape(acknowledged_by)})</p>"
    )


def _page(action: str, delivery: Delivery) -> HTMLResponse:
    text = html.escape(str(delivery.body.get("text") or ""))
    link = str(delivery.body.get("link") or "")
    opener = (
        f'<p><a href="{html.escape(link)}">เปิดข้อมูลการส่งต่อ / Open the referral</a></p>'
        if link.startswith(("https://", "http://"))
        else ""
    )
    return HTMLResponse(_PAGE.format(text=text, opener=opener, action=action))


def _error(status_code: int, message: str) -> HTMLResponse:
    return HTMLResponse(
        _PAGE.format(text="", opener="", action=f'<p class="error">{html.escape(message)}</p>'),
        status_code=status_code,
    )


_PAGE = """<!doctype html>
<html lang="th"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Stroke Fast Track</title>
<style>body{{font-family:sans-serif;margin:1rem;max-width:40rem}}
button.ack{{font-size:1.4rem;padding:.8rem 1.6rem;width:100%}}
.done{{color:#065f46;font-weight:bold}}.error{{color:#991b1b;font-weight:bold}}</style>
</head><body><h1>Stroke Fast Track</h1>
<p class="alert">{text}</p>{opener}{action}</body></html>
"""
