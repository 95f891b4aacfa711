"""Connecting at start without dying: a service waits for PostgreSQL and Kafka.

The HTTP server answers as soon as the app is built (``/health/live`` at once, ``/health/ready``
503 until the database and the broker answer); the connections are made in the background with
a bounded backoff, for as long as it takes. Each resource is pushed onto the lifespan's
``AsyncExitStack`` the moment it exists, so a stop at any point releases exactly what was made,
in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import asyncpg
from faststream.kafka import KafkaBroker

log = logging.getLogger(__name__)

FIRST_DELAY_S = 0.2
MAX_DELAY_S = 5.0


class BackgroundWorker(Protocol):
    def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class StartupState:
    """What readiness reports while the service starts."""

    database: str = "waiting"
    kafka: str = "waiting"
    consumers: str = "waiting"
    # When the consumers began joining their group (monotonic clock).
    joining_since: float | None = None
    last_error: dict[str, str] = field(default_factory=dict)

    @property
    def connected(self) -> bool:
        return self.database == "ok" and self.kafka == "ok"


async def until_it_works(
    what: str,
    attempt: Callable[[], Awaitable[None]],
    state: StartupState,
    *,
    on_failure: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Runs ``attempt`` until it succeeds: the pause doubles from 0.2 s up to 5 s."""
    delay = FIRST_DELAY_S
    while True:
        try:
            await attempt()
        except Exception as error:
            state.last_error[what] = type(error).__name__
            log.warning("%s not reachable yet (%s); trying again in %.1f s", what, error, delay)
            if on_failure is not None:
                with contextlib.suppress(Exception):
                    await on_failure()
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_DELAY_S)
        else:
            state.last_error.pop(what, None)
            return


async def connect_everything(
    *,
    state: StartupState,
    stack: contextlib.AsyncExitStack,
    pool: asyncpg.Pool,
    broker: KafkaBroker,
    workers: list[BackgroundWorker],
) -> None:
    """Database and broker in parallel; then the background workers (the outbox relay first);
    then the consumers, whose first group join can take a rebalance (seconds) and needs
    nothing else to wait for it."""

    async def database() -> None:
        async def select_one() -> None:
            async with asyncio.timeout(5):
                await pool.fetchval("SELECT 1")

        await until_it_works("database", select_one, state)
        state.database = "ok"

    async def kafka() -> None:
        # Producer and admin client only: what the relay and readiness need.
        stack.push_async_callback(broker.stop)
        await until_it_works("kafka", _connected(broker), state, on_failure=broker.stop)
        state.kafka = "ok"

    await asyncio.gather(database(), kafka())
    for worker in workers:
        worker.start()
        stack.push_async_callback(worker.stop)
    state.consumers, state.joining_since = "joining", time.monotonic()
    await until_it_works(
        "kafka consumers", _start_together(broker), state, on_failure=_stop_subscribers(broker)
    )
    state.consumers = "ok"
    log.info("connected: database, Kafka, consumers")


def _connected(broker: KafkaBroker) -> Callable[[], Awaitable[None]]:
    async def connect() -> None:
        await broker.connect()

    return connect


def _start_together(broker: KafkaBroker) -> Callable[[], Awaitable[None]]:
    """``broker.start()``, with the subscribers started at once instead of one after another.

    Each subscriber is a member of the service's one consumer group and aiokafka's start waits
    for the member's group join: started in turn, the referral service's three subscribers went
    through three rebalances (16 s after a SIGKILL); started together they share one.
    """

    async def start() -> None:
        await broker.connect()
        await asyncio.gather(*(subscriber.start() for subscriber in broker.subscribers))
        for publisher in broker.publishers:
            await publisher.start()
        broker.running = True

    return start


def _stop_subscribers(broker: KafkaBroker) -> Callable[[], Awaitable[None]]:
    """After a failed start of the consumers: stop the ones that started, keep the producer."""

    async def stop() -> None:
        for subscriber in broker.subscribers:
            with contextlib.suppress(Exception):
                await subscriber.stop()

    return stop
