"""Composition root of the referral service."""

from __future__ import annotations

from fastapi import FastAPI

from services.referral.config import SERVICE_NAME, ReferralSettings
from services.referral.entrypoints.consumers import wire_consumers
from services.referral.entrypoints.http import form_router, router
from services.referral.service.handlers import ReferralEndpoints
from shared.runtime import ServiceRuntime, create_service_app


def create_app(settings: ReferralSettings | None = None) -> FastAPI:
    settings = settings or ReferralSettings()
    endpoints = ReferralEndpoints(
        source_endpoint=f"{settings.referral_public_url.rstrip('/')}/fhir",
        public_url=settings.referral_public_url,
    )

    def wire(runtime: ServiceRuntime) -> None:
        runtime.components["endpoints"] = endpoints
        wire_consumers(runtime, endpoints)

    return create_service_app(
        name=SERVICE_NAME,
        settings=settings,
        routers=[router, *([form_router] if settings.form_enabled else [])],
        wire=wire,
        title="Fast Track referral service",
    )
