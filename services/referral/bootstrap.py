"""Composition root of the referral service."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from services.referral.adapters import retention
from services.referral.adapters.app_templates import install_app_language
from services.referral.adapters.catalogues import load_translations
from services.referral.adapters.kpi_gauges import KpiGauges
from services.referral.adapters.operations_gauges import FirstPageLatency, HospitalMessages
from services.referral.adapters.page_events import TIMELINE_CHANNEL
from services.referral.config import SERVICE_NAME, ReferralSettings
from services.referral.container import ConsoleSettings, ReferralContainer
from services.referral.domain.routing import TravelTimes
from services.referral.entrypoints import (
    admin_users,
    app_board,
    app_events,
    app_kpi,
    app_referral_list,
    app_referrals,
    asyncapi_api,
    clock_views,
    conformance_api,
    console_audit,
    console_dead_letters,
    console_health,
    console_pages,
    directory_api,
    fhir_api,
    messaging_api,
    session_identity,
    sign_in_pages,
)
from services.referral.entrypoints.consumers import wire_consumers
from services.referral.entrypoints.deps import install_app_error_handlers
from services.referral.service.context import ReferralContext
from services.referral.service.directory_cache import DIRECTORY_CHANNEL
from services.referral.workers.alerts import CLOCK_CHANNEL, AlertWatcher
from services.referral.workers.deadlines import DEADLINE_CHANNEL, DeadlineWatcher
from services.referral.workers.page_feed import PageFeed
from shared.consult_paging import OnCallPaging
from shared.pages import page_templates
from shared.retention import purge_job
from shared.runtime import ServiceRuntime, create_service_app
from shared.security_headers import SecurityHeadersMiddleware

SERVICE_DIR = Path(__file__).parent


def load_travel_times(path: str | None) -> TravelTimes:
    if path is None:
        return TravelTimes()
    return TravelTimes.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def create_app(settings: ReferralSettings | None = None) -> FastAPI:
    settings = settings or ReferralSettings()
    context = ReferralContext(
        source_endpoint=f"{settings.referral_public_url.rstrip('/')}/fhir",
        public_url=settings.referral_public_url,
        web_url=settings.web_public_url or settings.referral_public_url,
        accept_within=timedelta(minutes=settings.referral_accept_within_min),
        travel=load_travel_times(settings.referral_travel_times_file),
        on_call=OnCallPaging(
            telemedicine_url=settings.telemedicine_public_url,
            consultant_role=settings.telemedicine_consultant_role,
        ),
    )

    def wire(runtime: ServiceRuntime) -> ReferralContainer:
        page_feed = PageFeed(pool=runtime.pool, schema=runtime.name)
        meter = runtime.telemetry.meter("fasttrack.referral")
        runtime.sampler.sources.extend(
            [
                HospitalMessages(pool=runtime.pool, meter=meter),
                FirstPageLatency(pool=runtime.pool, meter=meter),
                KpiGauges(
                    pool=runtime.pool,
                    meter=meter,
                    every_s=settings.referral_kpi_metrics_interval_s,
                ),
            ]
        )
        deadlines = DeadlineWatcher(
            pool=runtime.pool,
            context=context,
            retry_s=settings.referral_deadline_poll_s,
            meter=meter,
        )
        alert_watcher = AlertWatcher(
            pool=runtime.pool, context=context, retry_s=settings.referral_alert_poll_s
        )
        runtime.listen(
            {
                DEADLINE_CHANNEL + runtime.name: [deadlines.notice, alert_watcher.notice_change],
                CLOCK_CHANNEL + runtime.name: [alert_watcher.notice_change],
                TIMELINE_CHANNEL + runtime.name: [alert_watcher.notice_change],
                DIRECTORY_CHANNEL + runtime.name: [context.directory.drop],
            }
        )
        runtime.listen(page_feed.notices())
        runtime.workers.extend(
            [
                deadlines,
                alert_watcher,
                purge_job(runtime.pool, settings, retention.PERSONAL_DATA),
                page_feed,
            ]
        )
        wire_consumers(runtime, context)
        pages = page_templates(SERVICE_DIR / "templates")
        install_app_language(pages, load_translations())
        return ReferralContainer(
            context=context,
            pages=pages,
            page_feed=page_feed,
            page_heartbeat_s=settings.referral_page_heartbeat_s,
            sign_in_rules=settings.sign_in_rules,
            console=ConsoleSettings(
                stuck_after=timedelta(minutes=settings.referral_console_stuck_after_min),
                trace_ui_url=settings.trace_ui_url.rstrip("/"),
            ),
        )

    app = create_service_app(
        name=SERVICE_NAME,
        settings=settings,
        routers=[
            # First: every hospital's message is matched against the routes before it twice
            # (the router, and the tracing middleware naming its span); no route before it
            # matched its path, so the order changes no answer.
            messaging_api.router,
            sign_in_pages.router,
            admin_users.router,
            app_board.router,
            app_referral_list.router,
            app_kpi.router,
            app_events.router,
            app_referrals.router,
            directory_api.router,
            clock_views.router,
            fhir_api.router,
            conformance_api.router,
            asyncapi_api.router,
            session_identity.router,
            console_pages.router,
            console_health.router,
            console_dead_letters.router,
            console_audit.router,
        ],
        wire=wire,
        title="Fast Track referral service",
        static_dir=SERVICE_DIR / "static",
    )
    install_app_error_handlers(app)
    app.add_middleware(SecurityHeadersMiddleware, page_prefixes=("/app/",))
    return app
