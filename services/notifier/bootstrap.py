"""Composition root of the notifier."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from fastapi import FastAPI

from services.notifier.channels import build_channels
from services.notifier.config import SERVICE_NAME, NotifierSettings
from services.notifier.domain.contacts import ContactBook
from services.notifier.domain.model import RetryPolicy
from services.notifier.entrypoints import line_webhook
from services.notifier.entrypoints.consumers import wire_consumers
from services.notifier.entrypoints.http import router
from services.notifier.service.delivery_metrics import DeliveryMetrics
from services.notifier.service.dispatcher import DeliveryDispatcher
from services.notifier.service.escalation import EscalationWatcher
from shared.runtime import ServiceRuntime, create_service_app


class _HttpClientWorker:
    """Closes the shared HTTP client on shutdown (started with the other workers)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    def start(self) -> None:
        pass

    async def stop(self) -> None:
        await self.client.aclose()


def load_contacts(path: str | None) -> ContactBook:
    if path is None:
        return ContactBook()
    return ContactBook.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def create_app(settings: NotifierSettings | None = None) -> FastAPI:
    settings = settings or NotifierSettings()
    contacts = load_contacts(settings.notifier_contacts_file)

    def wire(runtime: ServiceRuntime) -> None:
        client = httpx.AsyncClient(timeout=settings.notifier_http_timeout_s)
        delivery_metrics = DeliveryMetrics(runtime.telemetry.meter("fasttrack.notifier"))
        runtime.components["delivery_metrics"] = delivery_metrics
        dispatcher = DeliveryDispatcher(
            pool=runtime.pool,
            channels=build_channels(settings, client),
            contacts=contacts,
            retry_policy=RetryPolicy(
                max_attempts=settings.notifier_max_attempts,
                base_s=settings.notifier_backoff_base_s,
                cap_s=settings.notifier_backoff_cap_s,
            ),
            tracer=runtime.telemetry.tracer("fasttrack.notifier"),
            source_endpoint="urn:fasttrack:notifier",
            lease_s=settings.notifier_delivery_lease_s,
            poll_interval_s=settings.notifier_poll_interval_s,
            send_timeout_s=settings.notifier_http_timeout_s,
            metrics=delivery_metrics,
        )
        # Stopped in reverse: the dispatcher first, then the client it sends through.
        escalation = EscalationWatcher(
            pool=runtime.pool,
            contacts=contacts,
            source_endpoint="urn:fasttrack:notifier",
            poll_interval_s=settings.notifier_escalation_poll_s,
        )
        runtime.workers.extend([_HttpClientWorker(client), dispatcher, escalation])
        runtime.components["dispatcher"] = dispatcher
        runtime.components["line_channel_secret"] = settings.notifier_line_channel_secret
        wire_consumers(runtime, dispatcher, contacts)

    return create_service_app(
        name=SERVICE_NAME,
        settings=settings,
        routers=[router, line_webhook.router],
        wire=wire,
        title="Fast Track notifier",
    )
