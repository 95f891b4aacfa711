"""Composition root of the telemedicine service."""

from __future__ import annotations

from fastapi import FastAPI

from services.telemedicine.config import SERVICE_NAME, TelemedicineSettings
from services.telemedicine.container import TelemedicineContainer
from services.telemedicine.entrypoints import consults_api
from services.telemedicine.entrypoints.consumers import wire_consumers
from services.telemedicine.service.context import TelemedicineContext
from shared.retention import purge_job
from shared.runtime import ServiceRuntime, create_service_app


def create_app(settings: TelemedicineSettings | None = None) -> FastAPI:
    settings = settings or TelemedicineSettings()
    context = TelemedicineContext(
        source_endpoint=f"{settings.telemedicine_public_url.rstrip('/')}/fhir",
        public_url=settings.telemedicine_public_url,
    )

    def wire(runtime: ServiceRuntime) -> TelemedicineContainer:
        # What it keeps of a patient is in the messages it sent (the outbox): nothing else.
        runtime.workers.append(purge_job(runtime.pool, settings, ()))
        wire_consumers(runtime, context)
        return TelemedicineContainer(context=context)

    return create_service_app(
        name=SERVICE_NAME,
        settings=settings,
        routers=[consults_api.router],
        wire=wire,
        title="Fast Track telemedicine service",
    )
