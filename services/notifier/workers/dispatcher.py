"""The dispatcher: sends pending deliveries, each in its own task, so one slow endpoint delays
no other. What one send is and what it comes to are the use cases of ``service/dispatch.py``.

With nothing to send it sleeps until the earliest pending delivery is due, at most
``recheck_s``. This process's new deliveries, escalations and retries wake it at once; another
instance's (written and then left behind: that instance died) come as a NOTIFY from the delivery
table's trigger (``DELIVERY_CHANNEL``, migration 0011) and are looked for ``idle_wait_s`` after
they fall due, if no one has sent them by then.

At most ``max_in_flight`` sends run at once, and the dispatcher claims (leases) only as many
deliveries as it can start now: a delivery leased but left waiting for a free database
connection would see its lease run out and be claimed, and sent, a second time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Mapping

import asyncpg
from opentelemetry import context, trace

from services.notifier.adapters import repository
from services.notifier.domain.contacts import ContactBook
from services.notifier.domain.model import Channel, Delivery, PermanentDeliveryError, RetryPolicy
from services.notifier.service.delivery_metrics import DeliveryMetrics
from services.notifier.service.dispatch import (
    Attempt,
    DeliveryChannel,
    Outcome,
    StoredChannel,
    record_attempt,
    send,
    send_and_record,
    sent_outcome,
)
from services.notifier.service.links import AcknowledgementLinks
from services.notifier.workers.settlements import SentSettlements
from shared.tracing import ReferralIds, resumed, without_baggage
from shared.workers import BackgroundTask

log = logging.getLogger(__name__)
_SETTLE_ATTEMPTS = 5

# NOTIFY channel (suffixed with the schema); the payload is the delivery's next attempt's time.
DELIVERY_CHANNEL = "delivery_due_"


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
        idle_wait_s: float | None = None,
        recheck_s: float = 60.0,
        metrics: DeliveryMetrics | None = None,
        acknowledgement_links: AcknowledgementLinks | None = None,
    ) -> None:
        super().__init__()
        self._acknowledgement_links = acknowledgement_links
        self._metrics = metrics
        self._pool = pool
        self._channels = dict(channels)
        # Which channels are stored ones, asked once: an isinstance check against a
        # runtime-checkable Protocol walks the protocol's attributes each time (about 2 % of
        # the notifier's CPU when it was asked per delivery).
        self._stored_channels = {
            kind: channel
            for kind, channel in self._channels.items()
            if isinstance(channel, StoredChannel)
        }
        self._contacts = contacts
        self._retry_policy = retry_policy
        self._tracer = tracer
        self._source_endpoint = source_endpoint
        self._lease_s = lease_s
        self._poll_interval_s = poll_interval_s
        # Nothing claimed: sleep until the next pending delivery is due, at most recheck_s;
        # another instance's delivery is looked for this long after it falls due (None: poll
        # every poll_interval_s, as when the database cannot say).
        self._idle_wait_s = idle_wait_s
        self._recheck_s = recheck_s
        # While idle (or reading how long to be): when a notice wakes it (epoch seconds).
        self._sleep_until: float | None = None
        self._notice_timer: asyncio.TimerHandle | None = None
        self._send_timeout_s = send_timeout_s
        self._batch_size = batch_size
        self._max_in_flight = max_in_flight
        self._wake = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        # Sends that finish together are written down together.
        self._sent = SentSettlements(pool)

    def wake(self) -> None:
        self._wake.set()

    @property
    def lease_s(self) -> float:
        return self._lease_s

    def room(self) -> int:
        """How many more sends could start now: what a request's statement may lease to this
        dispatcher (``take``); none while it is not running."""
        if self._task is None or self._task.done():
            return 0
        return max(0, self._max_in_flight - len(self._in_flight))

    def take(self, deliveries: list[Delivery]) -> None:
        """Sends ``deliveries``, leased to this dispatcher by the committed statement that
        recorded them (handlers.Leases), as if it had claimed them; while it is not running
        they are left to their leases' end (another sender, or this one restarted, claims
        them then)."""
        if self._task is None or self._task.done():
            return
        for delivery in deliveries:
            self._start(delivery)

    def _start(self, delivery: Delivery) -> None:
        task = asyncio.create_task(self._deliver(delivery), name=f"deliver-{delivery.id}")
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    def notice(self, due: float | None = None) -> None:
        """A delivery was written (by any instance) that falls due at ``due`` (epoch seconds;
        None: now): if its writer has not sent it ``idle_wait_s`` later, this one looks."""
        if self._idle_wait_s is None or self._sleep_until is None:
            return  # not idle: the next idle wait reads the delivery's time itself
        at = (time.time() if due is None else due) + self._idle_wait_s
        if at >= self._sleep_until:
            return
        self._sleep_until = at
        if self._notice_timer is not None:
            self._notice_timer.cancel()
        self._notice_timer = asyncio.get_running_loop().call_later(
            max(0.0, at - time.time()), self._wake.set
        )

    async def stop(self) -> None:
        await super().stop()
        # Deliveries cut short are leased: another sender takes them up when the lease ends.
        for task in list(self._in_flight):
            task.cancel()
        for task in list(self._in_flight):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._sent.stop()

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
                self._start(delivery)
            if len(due) < limit:
                # Notices heard from here on count (those of writes the read below misses).
                self._sleep_until = math.inf
                try:
                    wait = self._poll_interval_s if due else await self._idle_wait()
                    self._sleep_until = min(self._sleep_until, time.time() + wait)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), wait)
                finally:
                    self._sleep_until = None
                    if self._notice_timer is not None:
                        self._notice_timer.cancel()
                        self._notice_timer = None
                self._wake.clear()

    async def _idle_wait(self) -> float:
        """How long to sleep with nothing claimed: until the earliest pending delivery is due,
        at most ``recheck_s`` (woken sooner by new deliveries: ``wake``, ``notice``)."""
        if self._idle_wait_s is None:
            return self._poll_interval_s
        try:
            until_due = await repository.seconds_until_due(self._pool)
        except Exception:
            log.exception("could not read when the next delivery is due")
            return self._poll_interval_s
        if until_due is None:
            return self._recheck_s
        # Not below the poll interval: a delivery due now but held by a send of ours is
        # claimed by nobody until that send settles (which wakes the loop).
        return min(max(until_due, self._poll_interval_s), self._recheck_s)

    async def _deliver(self, delivery: Delivery) -> None:
        # The request's trace, resumed where the delivery was queued, about its referral.
        ids = ReferralIds.of(delivery.referral_id, (delivery.hospital,))
        token = context.attach(resumed(delivery.trace_context, ids))
        try:
            with self._tracer.start_as_current_span(
                f"notifier deliver {delivery.channel.value}"
            ) as span:
                span.set_attribute("fasttrack.delivery.id", delivery.id)
                span.set_attribute("fasttrack.delivery.attempt", delivery.attempts)
                await self._attempt(delivery)
        finally:
            context.detach(token)

    async def _attempt(self, delivery: Delivery) -> None:
        started = time.monotonic()
        stored = self._stored_channels.get(delivery.channel)
        settled = False
        if stored is not None:
            attempt = await self._send_and_record(delivery, stored)
            settled = attempt.outcome is Outcome.SENT  # recorded in the send's transaction
        else:
            with without_baggage():
                attempt = await send(
                    delivery,
                    channels=self._channels,
                    timeout_s=self._send_timeout_s,
                    acknowledgement_links=self._acknowledgement_links,
                )
        if not settled:
            await self._settle(delivery, attempt)
        if self._metrics is not None:
            self._metrics.attempt(
                channel=delivery.channel.value,
                outcome=attempt.outcome.value,
                duration_ms=(time.monotonic() - started) * 1000,
            )

    async def _send_and_record(self, delivery: Delivery, channel: StoredChannel) -> Attempt:
        """A delivery on a stored channel (the in-app feed): sent and recorded sent in one
        statement. A failure writes neither and comes back as the attempt to record."""
        try:
            async with asyncio.timeout(self._send_timeout_s), self._pool.acquire() as connection:
                await send_and_record(
                    connection,
                    delivery,
                    channel,
                    acknowledgement_links=self._acknowledgement_links,
                )
        except TimeoutError:
            return Attempt(Outcome.RETRY, "send timed out")
        except PermanentDeliveryError as error:
            return Attempt(Outcome.FAILED, error.reason)
        except Exception:
            log.exception("delivery %s failed unexpectedly", delivery.id)
            return Attempt(Outcome.RETRY, "internal error")
        return Attempt(Outcome.SENT)

    async def _settle(self, delivery: Delivery, attempt: Attempt) -> None:
        """Records what the attempt came to (one statement, or a transaction of its own for a
        final failure). A database hiccup is tried again at once: a sent message left
        unrecorded would be sent a second time when its lease runs out."""
        # Sent (on a channel that is not the database): written down with the other sends
        # that finish meanwhile, the outcome event made here, in the delivery's trace.
        sent = (
            sent_outcome(delivery, source_endpoint=self._source_endpoint)
            if attempt.outcome is Outcome.SENT and delivery.channel is not Channel.IN_APP
            else None
        )
        for number in range(1, _SETTLE_ATTEMPTS + 1):
            following: Delivery | None = None
            try:
                if sent is not None:
                    await self._sent.record(sent)
                else:
                    async with self._pool.acquire() as connection:
                        following = await record_attempt(
                            connection,
                            delivery,
                            attempt,
                            retry_policy=self._retry_policy,
                            contacts=self._contacts,
                            source_endpoint=self._source_endpoint,
                        )
            except Exception:
                if number == _SETTLE_ATTEMPTS:
                    log.exception("delivery %s: outcome not recorded", delivery.id)
                    return
                log.warning("delivery %s: recording the outcome failed; again", delivery.id)
                await asyncio.sleep(0.1 * 2**number)
                continue
            if following is not None:  # committed: the next channel can be claimed now
                self.wake()
            return
