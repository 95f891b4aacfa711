"""``GET /metrics``: the service's OpenTelemetry metrics in Prometheus' text format.

Open like ``/health``: a scraper inside the deployment calls it. It holds counts, durations and
offsets labelled by hospital, channel, topic and consumer group: never a patient, a referral id
or free text (tests/e2e/test_personal_data.py plants marker values and searches every scrape).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    registry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
