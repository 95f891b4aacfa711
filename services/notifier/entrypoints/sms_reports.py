"""Delivery reports from the SMS gateway (generic contract, see adapters/sms.py): a text that
reached the phone becomes notification-delivered; one the gateway could not deliver fails, and
the recipient's next channel is tried. Reports are retried by gateways: a repeat changes nothing.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from services.notifier.config import revealed
from services.notifier.entrypoints.deps import ContactsDep, DispatcherDep, InboundSecretsDep
from services.notifier.service.outcomes import record_delivered, record_undelivered
from shared.runtime import RuntimeDep
from shared.web import outcome_response

router = APIRouter()


class DeliveryReport(BaseModel):
    reference: str = Field(min_length=1, max_length=64, description="The delivery id we sent")
    status: Literal["delivered", "undelivered"]
    # The gateway's reason for an undelivered text (kept short: it goes on the timeline).
    reason: str | None = Field(default=None, max_length=200)
    at: datetime | None = None


@router.post("/sms/delivery-reports", response_class=JSONResponse)
async def sms_delivery_report(
    report: DeliveryReport,
    request: Request,
    runtime: RuntimeDep,
    secrets: InboundSecretsDep,
    contacts: ContactsDep,
    dispatcher: DispatcherDep,
) -> Response:
    token = revealed(secrets.sms_callback_token)
    if token is None:
        return outcome_response(503, "SMS delivery reports are not configured")
    offered = request.headers.get("authorization", "")
    if not hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        return outcome_response(401, "Missing or invalid callback token")
    # A report for a message never sent is refused (UnknownReceipt: 404, shared/web.py).
    async with runtime.pool.acquire() as connection, connection.transaction():
        if report.status == "delivered":
            first = await record_delivered(
                connection, delivery_id=report.reference, at=report.at or datetime.now(UTC)
            )
            retry = None
        else:
            first, retry = await record_undelivered(
                connection,
                delivery_id=report.reference,
                reason=f"SMS gateway: {report.reason or 'undelivered'}",
                contacts=contacts,
            )
    if retry is not None:
        dispatcher.wake()
    return JSONResponse({"reference": report.reference, "recorded": first})
