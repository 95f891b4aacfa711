"""Composition root shared by the services: builds everything in the app's lifespan.

Nothing connects at import time. ``create_service_app`` makes the FastAPI app (instrumented for
tracing); its lifespan opens the pool, builds the broker, lets the service wire its consumers and
background workers, starts the outbox relay, and tears it all down in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, Request
from faststream.kafka import KafkaBroker
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.trace import Span

from shared.auth import ApiKeys
from shared.db.pool import create_pool
from shared.http_limits import InputLimitsMiddleware
from shared.messaging.broker import create_broker
from shared.messaging.outbox import OutboxRelay
from shared.settings import PlatformSettings
from shared.telemetry import Telemetry
from shared.web import FhirResponse, install_error_handlers


class BackgroundWorker(Protocol):
    def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class ServiceRuntime:
    name: str
    settings: PlatformSettings
    telemetry: Telemetry
    pool: asyncpg.Pool
    broker: KafkaBroker
    relay: OutboxRelay
    workers: list[BackgroundWorker] = field(default_factory=list)
    # Service-specific collaborators (e.g. the notifier's channel), by name.
    components: dict[str, Any] = field(default_factory=dict)


Wiring = Callable[[ServiceRuntime], None]


def create_service_app(
    *,
    name: str,
    settings: PlatformSettings,
    routers: Sequence[APIRouter],
    wire: Wiring,
    title: str,
    capability_paths: Sequence[str] = (),
) -> FastAPI:
    """``capability_paths``: path prefixes whose next segment is a secret (a signed link), kept
    out of span attributes."""
    telemetry = Telemetry(service_name=name, settings=settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await create_pool(settings.database_url, schema=name)
        broker = create_broker(settings, service_name=name, tracer_provider=telemetry.provider)
        relay = OutboxRelay(
            pool=pool,
            broker=broker,
            producer_name=name,
            schema=name,
            tracer=telemetry.tracer("fasttrack.outbox"),
            poll_interval_s=settings.outbox_poll_interval_s,
            batch_size=settings.outbox_batch_size,
        )
        runtime = ServiceRuntime(
            name=name,
            settings=settings,
            telemetry=telemetry,
            pool=pool,
            broker=broker,
            relay=relay,
        )
        wire(runtime)
        await broker.start()
        relay.start()
        for worker in runtime.workers:
            worker.start()
        app.state.runtime = runtime
        try:
            yield
        finally:
            for worker in reversed(runtime.workers):
                await worker.stop()
            await relay.stop()
            await broker.stop()
            await pool.close()
            telemetry.shutdown()

    app = FastAPI(title=title, lifespan=lifespan, default_response_class=FhirResponse)
    app.state.api_keys = ApiKeys(settings.api_keys)
    app.add_middleware(
        InputLimitsMiddleware,
        max_body_bytes=settings.http_max_body_bytes,
        max_header_bytes=settings.http_max_header_bytes,
    )
    install_error_handlers(app)
    app.include_router(health_router)
    for router in routers:
        app.include_router(router)
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=telemetry.provider,
        excluded_urls="health",
        server_request_hook=url_redactor(capability_paths),
    )
    return app


def url_redactor(capability_paths: Sequence[str]) -> Callable[[Span, dict[str, Any]], None]:
    """Rewrites a request span's URL attributes without the query string (FHIR searches can hold
    patient identifiers; tickets travel there) and without the secret of a signed-link path."""

    def redact(span: Span, scope: dict[str, Any]) -> None:
        if span is None or not span.is_recording() or scope.get("type") != "http":
            return
        path = str(scope.get("path", ""))
        for prefix in capability_paths:
            if path.startswith(prefix) and len(path) > len(prefix):
                path = f"{prefix}{{redacted}}"
        span.set_attribute("http.target", path)
        host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
        span.set_attribute("http.url", f"{scope.get('scheme', 'http')}://{host}{path}")

    return redact


def get_runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[ServiceRuntime, Depends(get_runtime)]

health_router = APIRouter()


@health_router.get("/health", response_class=FhirResponse)
async def health(runtime: RuntimeDep) -> FhirResponse:
    """Ready when the database answers and the Kafka cluster answers a metadata request."""
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(2):
            await runtime.pool.fetchval("SELECT 1")
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "unavailable"
    checks["kafka"] = "ok" if await runtime.broker.ping(timeout=2) else "unavailable"
    healthy = all(value == "ok" for value in checks.values())
    return FhirResponse(
        {"status": "ok" if healthy else "degraded", "service": runtime.name, **checks},
        status_code=200 if healthy else 503,
    )


def serve(app_factory: str, *, port: int) -> None:
    """Runs a service's app factory under uvicorn (logging stays ours: JSON with trace ids)."""
    import uvicorn

    uvicorn.run(
        app_factory,
        factory=True,
        host="0.0.0.0",
        port=port,
        log_config=None,
    )
