"""Composition root of the telemedicine service."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from services.telemedicine.adapters import retention
from services.telemedicine.adapters.video_tokens import VideoTokens
from services.telemedicine.config import SERVICE_NAME, TelemedicineSettings
from services.telemedicine.container import TelemedicineContainer
from services.telemedicine.domain.escalation import EscalationLadder
from services.telemedicine.entrypoints import (
    check_in_pages,
    consult_pages,
    consults_api,
    first_consult_api,
    first_consult_pages,
    monitoring_api,
    monitoring_pages,
    recommendation_api,
    video_api,
)
from services.telemedicine.entrypoints.consumers import first_consult_handler, wire_consumers
from services.telemedicine.entrypoints.monitoring_consumers import wire_monitoring_consumers
from services.telemedicine.service.context import TelemedicineContext
from services.telemedicine.service.monitoring_context import MonitoringContext
from services.telemedicine.workers.check_in_reminders import CHECK_IN_CHANNEL, MissedCheckIns
from services.telemedicine.workers.escalation import DEADLINE_CHANNEL, ConsultEscalation
from shared import console_status
from shared.fhir.codes import EventCode
from shared.pages import page_templates
from shared.retention import purge_job
from shared.runtime import ServiceRuntime, create_service_app
from shared.signed_links import LinkSigner

CHECK_IN_LINK_PURPOSE = "monitoring-check-in"

SERVICE_DIR = Path(__file__).parent
# Behind the one origin, /static/ is the web app's (deploy/nginx/): the service's own prefix.
STATIC_PATH = "/static/telemedicine"


def create_app(settings: TelemedicineSettings | None = None) -> FastAPI:
    settings = settings or TelemedicineSettings()
    context = TelemedicineContext(
        source_endpoint=f"{settings.telemedicine_public_url.rstrip('/')}/fhir",
        public_url=settings.telemedicine_public_url,
        ladder=EscalationLadder(
            consultant_role=settings.telemedicine_consultant_role,
            stroke_lead_role=settings.telemedicine_stroke_lead_role,
            backup_after=timedelta(seconds=settings.telemedicine_backup_after_s),
            stroke_lead_after=timedelta(seconds=settings.telemedicine_stroke_lead_after_s),
            fail_after=timedelta(seconds=settings.telemedicine_fail_after_s),
            by_hub={
                hub: (timedelta(seconds=b), timedelta(seconds=s), timedelta(seconds=f))
                for hub, (b, s, f) in settings.telemedicine_ladder_by_hub.items()
            },
        ),
        hub_phones=dict(settings.telemedicine_hub_phones),
        coordination_phone=settings.telemedicine_coordination_phone,
        tenecteplase_hospitals=frozenset(settings.telemedicine_tenecteplase_hospitals),
    )
    monitoring = MonitoringContext(
        consults=context,
        programmes=settings.monitoring_programmes(),
        check_in_links=LinkSigner(
            secret=settings.telemedicine_check_in_link_secret.get_secret_value(),
            purpose=CHECK_IN_LINK_PURPOSE,
            max_age_s=settings.telemedicine_check_in_link_ttl_s,
        ),
        default_consultant_hospital=settings.telemedicine_monitoring_consultant_hospital,
    )

    def wire(runtime: ServiceRuntime) -> TelemedicineContainer:
        runtime.workers.append(purge_job(runtime.pool, settings, retention.PERSONAL_DATA))
        escalation = ConsultEscalation(
            pool=runtime.pool, context=context, retry_s=settings.telemedicine_escalation_poll_s
        )
        check_ins = MissedCheckIns(
            pool=runtime.pool, context=monitoring, retry_s=settings.telemedicine_monitoring_poll_s
        )
        runtime.listen(
            {
                DEADLINE_CHANNEL + runtime.name: [escalation.notice],
                CHECK_IN_CHANNEL + runtime.name: [check_ins.notice_check_in],
            }
        )
        runtime.workers.extend([escalation, check_ins])
        wire_consumers(runtime, context)
        wire_monitoring_consumers(
            runtime,
            monitoring,
            also={EventCode.TELECONSULT_REQUESTED: first_consult_handler(context)},
        )
        return TelemedicineContainer(
            context=context,
            video_tokens=VideoTokens(
                base_url=settings.telemedicine_video_base_url,
                app_id=settings.telemedicine_video_app_id,
                secret=settings.telemedicine_video_secret,
                lifetime=timedelta(seconds=settings.telemedicine_video_token_ttl_s),
            ),
            pages=page_templates(SERVICE_DIR / "templates", static_path=STATIC_PATH),
            monitoring=monitoring,
        )

    return create_service_app(
        name=SERVICE_NAME,
        settings=settings,
        routers=[
            consults_api.router,
            first_consult_api.router,
            video_api.router,
            recommendation_api.router,
            # Before the consult pages: /app/consults/new is not a consult's id.
            first_consult_pages.router,
            consult_pages.router,
            monitoring_api.router,
            monitoring_pages.router,
            check_in_pages.router,
            console_status.router,
        ],
        wire=wire,
        title="Fast Track telemedicine service",
        static_dir=SERVICE_DIR / "static",
        static_path=STATIC_PATH,
    )
