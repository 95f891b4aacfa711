"""The LINE webhook: acknowledgements tapped on a LINE alert ("Acknowledge / รับทราบ"), and a
home-isolation patient's answers to a check-in reminder (its quick replies), passed on to
telemedicine as monitoring-check-in messages on the network's inbound topic (through the outbox,
in one transaction: LINE does not wait for telemedicine, and nothing is lost if Kafka is away).

LINE signs every webhook with the channel secret (`X-Line-Signature`); an unsigned or wrongly
signed request is refused before its body is parsed. LINE expects a quick 200 (it sends an
empty `events` list to check the URL), so the handler only records acknowledgements: one
transaction per event, first acknowledgement wins, a redelivered event changes nothing.
"""

from __future__ import annotations

import json
import logging

import asyncpg
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from services.notifier.adapters.line import acknowledgements_in, verify_signature
from services.notifier.adapters.line_check_ins import check_ins_in
from services.notifier.config import revealed
from services.notifier.domain.errors import UnknownDelivery
from services.notifier.entrypoints.deps import DeliveryMetricsDep, InboundSecretsDep
from services.notifier.service.acknowledgements import acknowledge
from shared.fhir.monitoring import line_check_in_message
from shared.messaging.outbox import add_to_outbox
from shared.messaging.topics import HOSPITAL_INBOUND
from shared.runtime import RuntimeDep, ServiceRuntime
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
    await pass_on_check_ins(runtime, payload, source_endpoint=f"{request.base_url}line/webhook")
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


async def pass_on_check_ins(
    runtime: ServiceRuntime, payload: dict[str, object], *, source_endpoint: str
) -> None:
    """The check-in answers of a webhook body, each as a message for telemedicine (keyed by the
    episode; a redelivered event makes the same message id, which telemedicine applies once)."""
    check_ins = check_ins_in(payload)
    if not check_ins:
        return
    async with runtime.pool.acquire() as connection:
        for check_in in check_ins:
            try:
                async with connection.transaction():
                    await add_to_outbox(
                        connection,
                        topic=HOSPITAL_INBOUND,
                        key=check_in.episode_id,
                        message=line_check_in_message(
                            episode_id=check_in.episode_id,
                            answer=check_in.answer,
                            line_user=check_in.user_id,
                            at=check_in.at,
                            event_id=check_in.event_id,
                            source_endpoint=source_endpoint,
                        ),
                    )
            except asyncpg.UniqueViolationError:
                log.info(
                    "LINE check-in event %s delivered again: passed on already", check_in.event_id
                )
                continue
            log.info("LINE check-in answer passed on to telemedicine (event %s)", check_in.event_id)
