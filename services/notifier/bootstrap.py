"""Composition root of the notifier."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI

from services.notifier.adapters import retention as personal_data
from services.notifier.adapters.contacts_file import read_contacts
from services.notifier.adapters.delivery_gauges import DeliveryGauges
from services.notifier.adapters.http_client import http_client
from services.notifier.adapters.in_app import InAppChannel
from services.notifier.channels import build_channels
from services.notifier.config import SERVICE_NAME, NotifierSettings
from services.notifier.container import InboundSecrets, LivePages, NotifierContainer
from services.notifier.domain.contacts import ContactBook
from services.notifier.domain.model import Channel, RetryPolicy
from services.notifier.entrypoints import (
    acknowledgement_links,
    console_fragments,
    line_webhook,
    live,
    sms_reports,
)
from services.notifier.entrypoints.consumers import wire_consumers
from services.notifier.entrypoints.http import router
from services.notifier.service.delivery_metrics import DeliveryMetrics
from services.notifier.service.links import AcknowledgementLinks, LiveTickets
from services.notifier.service.outcomes import SOURCE_ENDPOINT
from services.notifier.workers.contacts_reload import ContactsFileWatcher
from services.notifier.workers.dispatcher import DELIVERY_CHANNEL, DeliveryDispatcher
from services.notifier.workers.escalation import ALERT_SENT_CHANNEL, EscalationWatcher
from services.notifier.workers.live_feed import LiveFeed, LiveFeedRetention
from shared import console_status
from shared.pages import page_templates
from shared.retention import purge_job
from shared.runtime import ServiceRuntime, create_service_app
from shared.tracing import trace_http_client

SERVICE_DIR = Path(__file__).parent
# Behind the one origin, /static/ is the web app's (deploy/nginx/): the notifier's own prefix.
STATIC_PATH = "/static/notifier"


class _HttpClientWorker:
    """Closes the shared HTTP client on shutdown (started with the other workers)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    def start(self) -> None:
        pass

    async def stop(self) -> None:
        await self.client.aclose()


def create_app(settings: NotifierSettings | None = None) -> FastAPI:
    settings = settings or NotifierSettings()
    contacts_path = settings.notifier_contacts_file
    contacts = read_contacts(contacts_path) if contacts_path else ContactBook()

    secret = settings.notifier_link_secret.get_secret_value()
    public_url = settings.notifier_public_url.rstrip("/")
    acknowledgement_links_ = AcknowledgementLinks(
        public_url=public_url, secret=secret, max_age_s=settings.notifier_ack_link_ttl_s
    )

    def wire(runtime: ServiceRuntime) -> NotifierContainer:
        client = http_client(timeout_s=settings.notifier_http_timeout_s)
        meter = runtime.telemetry.meter("fasttrack.notifier")
        trace_http_client(client)
        delivery_metrics = DeliveryMetrics(meter)
        runtime.sampler.sources.append(DeliveryGauges(pool=runtime.pool, meter=meter))
        live_feed = LiveFeed()
        dispatcher = DeliveryDispatcher(
            pool=runtime.pool,
            channels={
                **build_channels(settings, client),
                Channel.IN_APP: InAppChannel(pool=runtime.pool),
            },
            contacts=contacts,
            retry_policy=RetryPolicy(
                max_attempts=settings.notifier_max_attempts,
                base_s=settings.notifier_backoff_base_s,
                cap_s=settings.notifier_backoff_cap_s,
            ),
            tracer=runtime.telemetry.tracer("fasttrack.notifier"),
            source_endpoint=SOURCE_ENDPOINT,
            lease_s=settings.notifier_delivery_lease_s,
            poll_interval_s=settings.notifier_poll_interval_s,
            idle_wait_s=settings.notifier_idle_poll_s,
            max_in_flight=settings.notifier_max_in_flight,
            send_timeout_s=settings.notifier_http_timeout_s,
            metrics=delivery_metrics,
            acknowledgement_links=acknowledgement_links_,
        )
        escalation = EscalationWatcher(
            pool=runtime.pool,
            contacts=contacts,
            source_endpoint=SOURCE_ENDPOINT,
            retry_s=settings.notifier_escalation_poll_s,
            on_escalated=dispatcher.wake,
        )
        runtime.listen(
            {
                ALERT_SENT_CHANNEL + runtime.name: [escalation.notice_sent],
                DELIVERY_CHANNEL + runtime.name: [dispatcher.notice],
            }
        )
        runtime.listen_for_payloads(live_feed.notices())
        retention = LiveFeedRetention(
            pool=runtime.pool,
            keep=timedelta(seconds=settings.notifier_live_retention_s),
            poll_interval_s=3600,
        )
        # Stopped in reverse: the dispatcher first, then the client it sends through.
        runtime.workers.extend(
            [
                _HttpClientWorker(client),
                dispatcher,
                escalation,
                retention,
                purge_job(runtime.pool, settings, personal_data.PERSONAL_DATA),
            ]
        )
        if contacts_path:
            runtime.workers.append(
                ContactsFileWatcher(
                    path=contacts_path,
                    book=contacts,
                    poll_interval_s=settings.notifier_contacts_reload_s,
                    on_reload=escalation.notice_directory,
                )
            )
        wire_consumers(runtime, dispatcher, contacts, acknowledgement_links_, delivery_metrics)
        return NotifierContainer(
            contacts=contacts,
            dispatcher=dispatcher,
            delivery_metrics=delivery_metrics,
            acknowledgement_links=acknowledgement_links_,
            live=LivePages(
                tickets=LiveTickets(secret=secret, max_age_s=settings.notifier_live_ticket_ttl_s),
                feed=live_feed,
                public_url=public_url,
                ticket_ttl_s=settings.notifier_live_ticket_ttl_s,
                backlog=timedelta(seconds=settings.notifier_live_backlog_s),
            ),
            pages=page_templates(SERVICE_DIR / "templates", static_path=STATIC_PATH),
            secrets=InboundSecrets(
                line_channel_secret=settings.notifier_line_channel_secret,
                sms_callback_token=settings.notifier_sms_callback_token,
            ),
        )

    return create_service_app(
        name=SERVICE_NAME,
        settings=settings,
        routers=[
            router,
            line_webhook.router,
            live.router,
            acknowledgement_links.router,
            sms_reports.router,
            console_status.router,
            console_fragments.router,
        ],
        wire=wire,
        title="Fast Track notifier",
        static_dir=SERVICE_DIR / "static",
        static_path=STATIC_PATH,
    )
