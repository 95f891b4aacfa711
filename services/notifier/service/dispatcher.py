"""Sends pending deliveries; each in its own task, so one slow endpoint delays no other.

At most ``max_in_flight`` sends run at once, and the dispatcher claims (leases) only as many
deliveries as it can start now: a delivery leased but left waiting for a free database
connection would see its lease run out and be claimed, and sent, a second time.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Protocol

import asyncpg
from opentelemetry import propagate, trace

from services.notifier.adapters import fhir_mapping, repository
from services.notifier.domain.contacts import ContactBook
from services.notifier.domain.model import (
    Channel,
    Delivery,
    PermanentDeliveryError,
    RetryPolicy,
    TransientDeliveryError,
)
from services.notifier.service.delivery_metrics import DeliveryMetrics
from services.notifier.service.links import AcknowledgementLinks
from services.notifier.service.outcomes import fall_back
from shared.messaging.outbox import add_to_outbox
from shared.messaging.topics import NOTIFICATION_OUTCOMES
from shared.workers import BackgroundTask

log = logging.getLogger(__name__)
_SETTLE_ATTEMPTS = 5


class DeliveryChannel(Protocol):
    async def send(self, delivery: Delivery) -> None: ...


class DeliveryDispatcher(BackgroundTask):
    name = "delivery-dispatcher"

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        channels: Mapping[Channel, DeliveryChannel],
        contacts: ContactBook,
        retry_policy: RetryPolicy,
        tracer: trace.Tracer,
        source_endpoint: str,
        lease_s: float,
        poll_interval_s: float,
        send_timeout_s: float,
        batch_size: int = 50,
        max_in_flight: int = 32,
        metrics: DeliveryMetrics | None = None,
        acknowledgement_links: AcknowledgementLinks | None = None,
    ) -> None:
        super().__init__()
        self._acknowledgement_links = acknowledgement_links
        self._metrics = metrics
        self._pool = pool
        self._channels = dict(channels)
        self._contacts = contacts
        self._retry_policy = retry_policy
        self._tracer = tracer
        self._source_endpoint = source_endpoint
        self._lease_s = lease_s
        self._poll_interval_s = poll_interval_s
        self._send_timeout_s = send_timeout_s
        self._batch_size = batch_size
        self._max_in_flight = max_in_flight
        self._wake = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        await super().stop()
        # Deliveries cut short are leased: another sender takes them up when the lease ends.
        for task in list(self._in_flight):
            task.cancel()
        for task in list(self._in_flight):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self) -> None:
        while True:
            free = self._max_in_flight - len(self._in_flight)
            if free <= 0:
                # Full: the next claim waits for a send to finish.
                await asyncio.wait(set(self._in_flight), return_when=asyncio.FIRST_COMPLETED)
                continue
            limit = min(self._batch_size, free)
            try:
                due = await repository.claim_due(self._pool, limit=limit, lease_s=self._lease_s)
            except Exception:
                log.exception("could not claim deliveries")
                due = []
            for delivery in due:
                task = asyncio.create_task(self._deliver(delivery), name=f"deliver-{delivery.id}")
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)
            if len(due) < limit:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_interval_s)
                self._wake.clear()

    async def _deliver(self, delivery: Delivery) -> None:
        parent = propagate.extract(delivery.trace_context)
        with self._tracer.start_as_current_span(
            f"deliver {delivery.channel.value}", context=parent, kind=trace.SpanKind.CLIENT
        ) as span:
            span.set_attribute("fasttrack.delivery.id", delivery.id)
            span.set_attribute("fasttrack.delivery.attempt", delivery.attempts)
            started = time.monotonic()
            outcome = "retry"
            settle: Callable[[], Awaitable[None]]
            try:
                channel = self._channels.get(delivery.channel)
                if channel is None:
                    raise PermanentDeliveryError(f"channel {delivery.channel.value} not configured")
                async with asyncio.timeout(self._send_timeout_s):
                    await channel.send(self._with_acknowledgement_link(delivery))
            except TimeoutError:
                settle = partial(self._retry_or_fail, delivery, "send timed out", None)
            except TransientDeliveryError as error:
                settle = partial(self._retry_or_fail, delivery, error.reason, error.retry_after_s)
            except PermanentDeliveryError as error:
                outcome = "failed"
                settle = partial(self._finish, delivery, sent=False, reason=error.reason)
            except Exception:
                log.exception("delivery %s failed unexpectedly", delivery.id)
                settle = partial(self._retry_or_fail, delivery, "internal error", None)
            else:
                outcome = "sent"
                settle = partial(self._finish, delivery, sent=True, reason=None)
            await self._settle(delivery, settle)
            if self._metrics is not None:
                self._metrics.attempt(
                    channel=delivery.channel.value,
                    outcome=outcome,
                    duration_ms=(time.monotonic() - started) * 1000,
                )

    async def _settle(self, delivery: Delivery, settle: Callable[[], Awaitable[None]]) -> None:
        """Records what the attempt came to. A database hiccup is tried again at once: a sent
        message left unrecorded would be sent a second time when its lease runs out."""
        for attempt in range(1, _SETTLE_ATTEMPTS + 1):
            try:
                await settle()
                return
            except Exception:
                if attempt == _SETTLE_ATTEMPTS:
                    log.exception("delivery %s: outcome not recorded", delivery.id)
                    return
                log.warning("delivery %s: recording the outcome failed; again", delivery.id)
                await asyncio.sleep(0.1 * 2**attempt)

    def _with_acknowledgement_link(self, delivery: Delivery) -> Delivery:
        """An alert to a person (or a page) carries its one-tap acknowledgement link; made at
        send time, so it is never stored and a replayed alert gets a fresh one."""
        if (
            self._acknowledgement_links is None
            or not delivery.body.get("needs_ack")
            or delivery.channel is Channel.WEBHOOK
        ):
            return delivery
        link = self._acknowledgement_links.link_for(delivery.id)
        return dataclasses.replace(delivery, body={**delivery.body, "ack_link": link})

    async def _retry_or_fail(
        self, delivery: Delivery, reason: str, retry_after_s: float | None
    ) -> None:
        if self._retry_policy.gives_up_after(delivery.attempts):
            await self._finish(
                delivery, sent=False, reason=f"{reason} (gave up after {delivery.attempts})"
            )
            return
        delay = self._retry_policy.delay_after(delivery.attempts, retry_after_s=retry_after_s)
        log.warning("delivery %s: %s; retry in %.1f s", delivery.id, reason, delay)
        async with self._pool.acquire() as connection:
            await repository.reschedule(
                connection, delivery_id=delivery.id, delay_s=delay, reason=reason
            )

    async def _finish(self, delivery: Delivery, *, sent: bool, reason: str | None) -> None:
        retry = None
        async with self._pool.acquire() as connection, connection.transaction():
            if sent:
                changed = await repository.mark_sent(connection, delivery_id=delivery.id)
            else:
                changed = await repository.mark_failed(
                    connection, delivery_id=delivery.id, reason=reason or "failed"
                )
            if changed and not sent:
                retry = await fall_back(connection, failed=delivery, contacts=self._contacts)
            # A live event published to the hospital's feed has told nobody yet: the timeline
            # hears of it when an open page shows it (notification-delivered), or if it fails.
            published_only = sent and delivery.channel is Channel.IN_APP
            if changed and not published_only:  # a concurrent sender may have finished it first
                await add_to_outbox(
                    connection,
                    topic=NOTIFICATION_OUTCOMES,
                    key=delivery.referral_id,
                    message=fhir_mapping.outcome_message(
                        delivery, sent=sent, reason=reason, source_endpoint=self._source_endpoint
                    ),
                )
        if retry is not None:  # committed: the next channel can be claimed now
            self.wake()
