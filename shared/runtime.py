"""Composition root shared by the services: builds everything in the app's lifespan.

Nothing connects at import time. ``create_service_app`` makes the FastAPI app (instrumented for
tracing); its lifespan builds the pool, the broker and the outbox relay, lets the service wire
its consumers and background workers, and returns at once so the service answers ``/health/live``
within a second or two of starting. The connections are made in the background
(``shared.startup``: the database and Kafka are waited for, never a reason to exit) and reported
by ``/health/ready``. Every resource goes onto one ``AsyncExitStack`` as soon as it exists, so
shutdown releases each one in reverse order, whatever fails on the way.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, TypeVar

import asyncpg
from fastapi import APIRouter, Depends, FastAPI, Request
from faststream.kafka import KafkaBroker

from shared import health
from shared.api_docs import install_api_docs
from shared.auth import ApiKeys
from shared.db.pool import create_pool
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage
from shared.http_limits import InputLimitsMiddleware
from shared.messaging.broker import consumer_group, create_broker
from shared.messaging.consumer import FhirMessageConsumer
from shared.messaging.guard import ConsumerGuard
from shared.messaging.message_handlers import (
    MessageHandler,
    OneStatementHandler,
    RefusalHandler,
    TogetherHook,
)
from shared.messaging.outbox_relay import OutboxRelay
from shared.messaging.progress import PartitionProgress
from shared.messaging.service_consumer import ServiceConsumer
from shared.messaging.topics import PerHospitalTopics, Topic
from shared.metrics import endpoint as metrics_endpoint
from shared.metrics.kafka_offsets import KafkaOffsets
from shared.metrics.outbox import OutboxBacklog
from shared.metrics.sampled import Sampler
from shared.pages import STATIC_PATH, mount_static
from shared.settings import PlatformSettings
from shared.startup import BackgroundWorker, StartupState, connect_everything
from shared.telemetry import Telemetry, http_server_telemetry, signed_link_prefixes
from shared.web import FhirResponse, install_error_handlers
from shared.web_identity import IdentitySigner
from shared.workers import DatabaseNotices, NoticeHandler, PayloadHandler


@dataclass
class ServiceRuntime:
    name: str
    settings: PlatformSettings
    telemetry: Telemetry
    pool: asyncpg.Pool
    broker: KafkaBroker
    relay: OutboxRelay
    guard: ConsumerGuard
    # Gauges read from the database and Kafka (shared/metrics/sampled.py); a service adds its
    # own sources to it in its wiring.
    sampler: Sampler
    # The service's one Kafka consumer for all its topics (``subscribe`` adds them).
    consumer: ServiceConsumer
    # A broker never started: the topics the service's AsyncAPI document describes, one
    # channel each (the consumer reads them all as one subscription, not listed itself).
    specification: KafkaBroker
    startup: StartupState = field(default_factory=StartupState)
    workers: list[BackgroundWorker] = field(default_factory=list)
    # The process's one LISTEN connection (``DatabaseNotices``): each channel's handlers, the
    # relay's and those the service adds (``listen``).
    notices: dict[str, list[NoticeHandler]] = field(default_factory=dict)
    payload_notices: dict[str, list[PayloadHandler]] = field(default_factory=dict)

    def listen(self, handlers: Mapping[str, Sequence[NoticeHandler]]) -> None:
        """Hands each NOTIFY on a channel to its handlers (with the payload's due time), and
        each of them "now" whenever the listener (re)connects."""
        for channel, on_channel in handlers.items():
            self.notices.setdefault(channel, []).extend(on_channel)

    def listen_for_payloads(self, handlers: Mapping[str, Sequence[PayloadHandler]]) -> None:
        """As ``listen``, with the payload as sent (None whenever the listener (re)connects)."""
        for channel, on_channel in handlers.items():
            self.payload_notices.setdefault(channel, []).extend(on_channel)

    def subscribe(
        self,
        topic: Topic | PerHospitalTopics,
        handlers: Mapping[EventCode, MessageHandler],
        *,
        in_one_statement: Mapping[EventCode, OneStatementHandler] | None = None,
        after_commit: Callable[[FhirMessage], None] | None = None,
        on_refused: RefusalHandler | None = None,
        include_in_schema: bool = True,
        dead_letters_unreadable: bool = True,
        applying_together: TogetherHook | None = None,
    ) -> FhirMessageConsumer:
        """Hands ``topic``'s records to ``handlers`` (the one way a service consumes a topic):
        the service's one Kafka consumer reads it with its other topics (``ServiceConsumer``),
        in its group, with its fetch wait and commit interval; the keyword options are
        ``FhirMessageConsumer``'s own."""
        consumer = FhirMessageConsumer(
            broker=self.broker,
            pool=self.pool,
            topic=topic,
            service_name=self.name,
            handlers=handlers,
            in_one_statement=in_one_statement,
            after_commit=after_commit,
            on_refused=on_refused,
            include_in_schema=include_in_schema,
            dead_letters_unreadable=dead_letters_unreadable,
            applying_together=applying_together,
        )
        self.consumer.add(consumer)
        if include_in_schema:
            per_hospital = isinstance(topic, PerHospitalTopics)
            self.specification.subscriber(
                *(() if per_hospital else (topic.address,)),
                pattern=topic.pattern if isinstance(topic, PerHospitalTopics) else None,
                group_id=self.consumer.group,
                title=f"{self.consumer.group}:{topic.address}",
                description=topic.description,
            )
        return consumer


# The service's own collaborators, in one dataclass of its own (built by its bootstrap.py).
Container = TypeVar("Container")

# Subscribes the service's consumers, adds its background workers to the runtime and returns
# its container, which the app keeps for the entry points (``container_dependency``).
Wiring = Callable[[ServiceRuntime], Container]


def create_service_app(
    *,
    name: str,
    settings: PlatformSettings,
    routers: Sequence[APIRouter],
    wire: Wiring[Container],
    title: str,
    static_dir: Path | None = None,
    static_path: str = STATIC_PATH,
) -> FastAPI:
    """``static_dir``: the service's page assets, served at ``static_path`` (``shared.pages``).
    A route with a ``{token}`` segment is a signed link: its secret is kept out of span
    attributes (``signed_link_prefixes``)."""
    telemetry = Telemetry(
        service_name=name,
        settings=settings,
        capability_paths=signed_link_prefixes(route for r in routers for route in r.routes),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            stack.callback(telemetry.shutdown)
            runtime = await build_runtime(stack)
            app.state.runtime = runtime
            app.state.container = wire(runtime)
            runtime.consumer.subscribe()
            connecting = asyncio.create_task(
                connect_everything(
                    state=runtime.startup,
                    stack=stack,
                    pool=runtime.pool,
                    broker=runtime.broker,
                    # The relay first: it is stopped last, after the workers that feed it,
                    # and the listener that wakes it and the workers just after it.
                    workers=[
                        runtime.relay,
                        DatabaseNotices(
                            pool=runtime.pool,
                            handlers=runtime.notices,
                            payload_handlers=runtime.payload_notices,
                        ),
                        *runtime.workers,
                        runtime.sampler,
                    ],
                ),
                name=f"{name}-connect",
            )
            try:
                yield
            finally:
                # Stop connecting before the stack releases what was connected so far.
                connecting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await connecting
                await commit_handled(runtime.consumer)

    async def build_runtime(stack: contextlib.AsyncExitStack) -> ServiceRuntime:
        """Builds every object without connecting (the pool opens connections on first use)."""
        pool = await create_pool(settings.database_url, schema=name)
        stack.push_async_callback(pool.close)
        guard = ConsumerGuard(
            group=consumer_group(name),
            max_attempts=settings.consumer_max_attempts,
            retry_backoff_s=settings.consumer_retry_backoff_s,
            progress=PartitionProgress(stall_after_s=settings.consumer_stall_after_s),
            tracer=telemetry.tracer("fasttrack.consumer"),
        )
        broker = create_broker(
            settings,
            service_name=name,
            meter_provider=telemetry.meter_provider,
            guard=guard,
        )
        guard.bind(broker)
        relay = OutboxRelay(
            pool=pool,
            broker=broker,
            producer_name=name,
            schema=name,
            retry_s=settings.outbox_retry_s,
            batch_size=settings.outbox_batch_size,
        )
        meter = telemetry.meter("fasttrack.platform")
        sampler = Sampler(
            name=f"metrics-sampler-{name}",
            sources=[
                OutboxBacklog(pool=pool, meter=meter, service=name),
                KafkaOffsets(
                    bootstrap_servers=settings.kafka_bootstrap_servers,
                    meter=meter,
                    client_id=f"fasttrack-{name}",
                ),
            ],
            poll_interval_s=settings.metrics_sample_interval_s,
        )
        runtime = ServiceRuntime(
            name=name,
            settings=settings,
            telemetry=telemetry,
            pool=pool,
            broker=broker,
            relay=relay,
            guard=guard,
            sampler=sampler,
            consumer=ServiceConsumer(
                broker=broker,
                pool=pool,
                service_name=name,
                progress=guard.progress,
                fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
                idle_fetch_max_wait_ms=settings.consumer_idle_fetch_max_wait_ms,
                commit_interval_s=settings.consumer_commit_interval_s,
            ),
            specification=KafkaBroker(settings.kafka_bootstrap_servers),
        )
        runtime.listen(relay_notices(relay))
        return runtime

    # /docs and /redoc with their assets served here, not from a CDN (shared/api_docs.py).
    app = FastAPI(
        title=title,
        lifespan=lifespan,
        default_response_class=FhirResponse,
        docs_url=None,
        redoc_url=None,
        # One span per request, named by its route template, and the request duration by route,
        # method and status code (http_server_request_duration_seconds at /metrics); the
        # request's URL in its span without a query or a signed link's secret.
        telemetry=http_server_telemetry(telemetry),
    )
    install_api_docs(app)
    app.state.api_keys = ApiKeys(settings.api_keys)
    app.state.operator_keys = ApiKeys(settings.operator_api_keys)
    app.state.identity_signer = IdentitySigner(
        secret=settings.web_identity_secret.get_secret_value()
    )
    app.state.metrics_registry = telemetry.metrics_registry
    app.add_middleware(
        InputLimitsMiddleware,
        max_body_bytes=settings.http_max_body_bytes,
        max_header_bytes=settings.http_max_header_bytes,
    )
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(metrics_endpoint.router)
    for router in routers:
        app.include_router(router)
    if static_dir is not None:
        mount_static(app, static_dir, path=static_path)
    return app


def relay_notices(relay: OutboxRelay) -> dict[str, list[NoticeHandler]]:
    """The relay is woken by its outbox's NOTIFY (a commit that wrote rows)."""
    return {relay.channel: [relay.notice]}


async def commit_handled(consumer: ServiceConsumer) -> None:
    """Commits what the consumer handled since its last periodic commit, before the broker
    stops: a restart then reads none of it again. Best effort (the broker may be away): what is
    not committed is read again, and the inbox finds it."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(5):
            await consumer.commit_handled()


# Request dependencies are ``async def``: FastAPI runs a plain ``def`` one on a worker thread,
# a thread hand-off per dependency and request, for what is only an attribute read.
async def get_runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[ServiceRuntime, Depends(get_runtime)]


def container_dependency(kind: type[Container]) -> Callable[[Request], Awaitable[Container]]:
    """The FastAPI dependency giving a service's entry points its container, typed: each service
    declares ``Annotated[Its Container, Depends(container_dependency(ItsContainer))]`` once (its
    ``entrypoints/deps.py``), and mypy sees every collaborator read from it."""

    async def get_container(request: Request) -> Container:
        container = request.app.state.container
        if not isinstance(container, kind):
            # A wiring mistake (a router mounted in another service's app), not a request's.
            raise TypeError(f"This app's container is {type(container).__name__}, not {kind}")
        return container

    return get_container
