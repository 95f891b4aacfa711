"""The LINE webhook: acknowledgements tapped on a LINE alert ("Acknowledge / รับทราบ").

LINE signs every webhook with the channel secret (`X-Line-Signature`); an unsigned or wrongly
signed request is refused before its body is parsed. LINE expects a quick 200 (it sends an
empty `events` list to check the URL), so the handler only records acknowledgements: one
transaction per event, first acknowledgement wins, a redelivered event changes nothing.
"""

from __future__ import annotations

import json
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from services.notifier.adapters.line import acknowledgements_in, verify_signature
from services.notifier.config import revealed
from services.notifier.domain.errors import UnknownDelivery
from services.notifier.entrypoints.deps import DeliveryMetricsDep, InboundSecretsDep
from services.notifier.service.acknowledgements import acknowledge
from shared.runtime import RuntimeDep
from shared.web import outcome_response

log = logging.getLogger(__name__)

router = APIRouter()


@router.post("/line/webhook", response_class=JSONResponse)
async def line_webhook(
    request: Request,
    runtime: RuntimeDep,
    secrets: InboundSecretsDep,
    metrics: DeliveryMetricsDep,
) -> Response:
    secret = revealed(secrets.line_channel_secret)
    if secret is None:
        return outcome_response(503, "LINE is not configured")
    signature = request.headers.get("X-Line-Signature")
    body = await request.body()
    if not signature or not verify_signature(channel_secret=secret, body=body, signature=signature):
        return outcome_response(401, "Missing or invalid X-Line-Signature")
    try:
        payload = json.loads(body)
    except ValueError:
        return outcome_response(400, "The webhook body is not JSON", code="invalid")
    if not isinstance(payload, dict):
        return outcome_response(400, "The webhook body is not a JSON object", code="invalid")
    acknowledgements = acknowledgements_in(payload)
    if acknowledgements:
        async with runtime.pool.acquire() as connection:
            for ack in acknowledgements:
                try:
                    async with connection.transaction():
                        first = await acknowledge(
                            connection,
                            delivery_id=ack.delivery_id,
                            acknowledged_by=ack.user_id,
                            channel="line",
                            at=ack.at,
                        )
                except UnknownDelivery:
                    log.warning("LINE acknowledgement for unknown delivery %s", ack.delivery_id)
                    continue
                if first:
                    metrics.acknowledged(channel="line")
                log.info(
                    "delivery %s acknowledged on LINE (%s)",
                    ack.delivery_id,
                    "first" if first else "already acknowledged",
                )
    return JSONResponse({})
