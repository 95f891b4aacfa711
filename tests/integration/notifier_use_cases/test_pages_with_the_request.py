"""A notification request's live event on its hospital's pages is published by the statement
that records the request's deliveries: an in-app delivery is a write to the notifier's own
database, so it needs no dispatcher round of its own (its claim, its statement and its
commit, with the feed's lock held through that commit). Counted from the statements really
sent (asyncpg's query logger): the dispatcher's statements on the live feed for a stroke alert
1 -> 0, deliveries it claims 3 -> 2; the request's own statement stays one.

What a page shows and when is unchanged: the event (with its acknowledgement link, no patient
data), its NOTIFY to the hospital's open pages at the commit, once however often the request
comes; the delivery recorded sent."""

from __future__ import annotations

import asyncio

import asyncpg
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, NumberDataPoint

from services.notifier.adapters import live_events
from services.notifier.adapters.contacts_document import directory_from
from services.notifier.adapters.in_app import InAppChannel
from services.notifier.domain.model import Channel, Delivery
from services.notifier.entrypoints.consumers import wire_consumers
from services.notifier.service.delivery_metrics import DeliveryMetrics
from services.notifier.service.dispatch import DeliveryChannel
from services.notifier.service.handlers import accept_notification_request
from services.notifier.service.links import AcknowledgementLinks
from shared.db.pool import Connection
from shared.messaging.topics import NOTIFICATION_REQUESTS
from tests.integration.notifier_use_cases.support import (
    CONTACTS,
    HOSPITAL,
    delivery_on,
    dispatcher_on,
    new_referral,
    stroke_alert,
)
from tests.support import eventually
from tests.use_case_database import (
    CountedPool,
    sent_statements,
)
from tests.wired_consumers import WiredConsumers

# A hospital with no roster, no channel and no system: only its pages can be told.
PAGES_ONLY = "uc-pages-only"
PAGES_ONLY_CONTACTS = directory_from({"hospitals": {PAGES_ONLY: {"webhook": False}}})
LINKS = AcknowledgementLinks(public_url="https://notify.test", secret="s" * 32, max_age_s=3600)


class _Dispatcher:
    lease_s = 30.0

    def wake(self) -> None:
        pass

    def room(self) -> int:
        return 0

    def take(self, deliveries: list[Delivery]) -> None:
        pass


async def _statuses(connection: Connection, referral_id: str) -> list[tuple[str, str]]:
    rows = await connection.fetch(
        "SELECT channel, status FROM delivery WHERE referral_id = $1 ORDER BY channel",
        referral_id,
    )
    return [(row["channel"], row["status"]) for row in rows]


async def test_a_requests_live_event_is_published_by_the_statement_that_records_it(
    connection: Connection,
) -> None:
    wired = WiredConsumers(connection, service_name="notifier")
    wire_consumers(wired, _Dispatcher(), CONTACTS, LINKS)  # type: ignore[arg-type]
    earlier = new_referral()  # the connection's first array statement asks for types once
    await wired.deliver(NOTIFICATION_REQUESTS, stroke_alert(earlier), key=earlier)
    referral_id = new_referral()
    message = stroke_alert(referral_id)

    async with sent_statements(connection) as sent:
        await wired.deliver(NOTIFICATION_REQUESTS, message, key=referral_id)
        await wired.deliver(NOTIFICATION_REQUESTS, message, key=referral_id)  # a redelivery

    assert len(sent) == 2, "\n".join(sent)  # one statement each, as before
    page = await delivery_on(connection, referral_id, Channel.IN_APP)
    # Was ("in-app", "pending"): left for the dispatcher to claim, publish and commit.
    assert await _statuses(connection, referral_id) == [
        ("in-app", "sent"),
        ("line", "pending"),
        ("webhook", "pending"),
    ]
    shown = [
        event
        for event in await live_events.events_after(connection, organization=HOSPITAL, after_id=0)
        if event.payload["delivery"] == page.id
    ]
    assert len(shown) == 1  # the redelivery published nothing more
    (event,) = shown
    assert event.kind == "notification"
    # What the dispatcher's send showed: the alert's minimum, its one-tap link, no patient data.
    assert set(event.payload) == {
        "referral", "category", "priority", "text", "link", "needs_ack", "ack_link",
        "delivery", "alert", "at",
    }  # fmt: skip
    assert LINKS.delivery_of(event.payload["ack_link"].rsplit("/", 1)[1]) == page.id
    assert "ack_link" not in page.body  # made for the page, never stored


def _attempts(reader: InMemoryMetricReader) -> dict[tuple[str, str], int]:
    """The operators' delivery attempts series (by channel and outcome), as a scrape reads it."""
    data = reader.get_metrics_data()
    if data is None:  # nothing recorded at all
        return {}
    return {
        (str(point.attributes["channel"]), str(point.attributes["outcome"])): int(point.value)
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == "fasttrack.notifier.delivery.attempts"
        for point in metric.data.data_points
        if isinstance(point, NumberDataPoint) and point.attributes is not None
    }


async def test_a_live_event_published_with_its_request_is_an_attempt_that_sent(
    connection: Connection,
) -> None:
    """The operators' attempts series still counts the in-app sends (the dispatcher counted
    them when it published them)."""
    reader = InMemoryMetricReader()
    metrics = DeliveryMetrics(MeterProvider(metric_readers=[reader]).get_meter("test"))
    wired = WiredConsumers(connection, service_name="notifier")
    wire_consumers(wired, _Dispatcher(), CONTACTS, LINKS, metrics)  # type: ignore[arg-type]
    referral_id = new_referral()
    message = stroke_alert(referral_id)

    await wired.deliver(NOTIFICATION_REQUESTS, message, key=referral_id)
    await wired.deliver(NOTIFICATION_REQUESTS, message, key=referral_id)  # a redelivery

    assert _attempts(reader) == {("in-app", "sent"): 1}


async def test_a_live_event_of_a_request_that_reaches_only_its_pages_is_an_attempt_that_sent(
    connection: Connection,
) -> None:
    """A request whose hospital has nobody else to reach (no roster, no channel, no system)
    takes the transaction's way; its live event is published by its deliveries' statement
    there too, and is counted as an attempt that sent (it was not: the series said nothing)."""
    reader = InMemoryMetricReader()
    metrics = DeliveryMetrics(MeterProvider(metric_readers=[reader]).get_meter("test"))
    wired = WiredConsumers(connection, service_name="notifier")
    wire_consumers(wired, _Dispatcher(), PAGES_ONLY_CONTACTS, LINKS, metrics)  # type: ignore[arg-type]
    referral_id = new_referral()
    message = stroke_alert(referral_id, to=PAGES_ONLY)

    await wired.deliver(NOTIFICATION_REQUESTS, message, key=referral_id)
    await wired.deliver(NOTIFICATION_REQUESTS, message, key=referral_id)  # a redelivery

    assert await _statuses(connection, referral_id) == [("in-app", "sent")]
    assert _attempts(reader) == {("in-app", "sent"): 1}


async def test_a_request_that_reaches_nobody_else_still_shows_on_its_pages(
    connection: Connection,
) -> None:
    """The transaction's way (a request with only its hospital's pages to reach) publishes
    its event by its deliveries' statement too."""
    referral_id = new_referral()
    await accept_notification_request(
        connection, stroke_alert(referral_id, to="uc-community"), contacts=CONTACTS
    )
    page = await delivery_on(connection, referral_id, Channel.IN_APP)
    assert page.hospital == "uc-community"
    assert ("in-app", "sent") in await _statuses(connection, referral_id)
    events = await live_events.events_after(
        connection, organization="uc-community", after_id=0, limit=1000
    )
    assert [e.payload["delivery"] for e in events if e.payload["delivery"] == page.id] == [page.id]


class _CountedPages(InAppChannel):
    """The in-app channel, noting what the dispatcher sends on it."""

    def __init__(self, *, pool: asyncpg.Pool) -> None:
        super().__init__(pool=pool)
        self.sent: list[str] = []

    async def send_and_mark_sent(self, connection: Connection, delivery: Delivery) -> None:
        self.sent.append(delivery.id)
        await super().send_and_mark_sent(connection, delivery)


class _Recording:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, delivery: Delivery) -> None:
        self.sent.append(delivery.id)


async def test_the_dispatcher_sends_a_stroke_alert_without_a_statement_on_the_live_feed(
    counted: CountedPool,
) -> None:
    pool = counted.pool
    heard: list[str] = []

    def hear(*args: object) -> None:
        heard.append(str(args[3]))  # (connection, pid, channel, payload)

    async with pool.acquire() as listener:
        await listener.add_listener(live_events.LIVE_EVENT_CHANNEL, hear)
        try:
            async with pool.acquire() as connection:
                referral_id = new_referral()
                await accept_notification_request(
                    connection, stroke_alert(referral_id), contacts=CONTACTS
                )
            for _ in range(50):  # NOTIFY comes after the commit, on the listener's connection
                if heard:
                    break
                await asyncio.sleep(0.02)
            counted.sent.clear()
            pages = _CountedPages(pool=pool)
            channels: dict[Channel, DeliveryChannel] = {
                Channel.WEBHOOK: _Recording(),
                Channel.LINE: _Recording(),
                Channel.IN_APP: pages,
            }
            await _dispatched(pool, channels, referral_id=referral_id)
        finally:
            await listener.remove_listener(live_events.LIVE_EVENT_CHANNEL, hear)

    assert heard == [HOSPITAL]  # the open pages woken once
    # Was 1: the dispatcher's statement that took the feed's lock, added the event and marked
    # the delivery sent (a transaction, with the lock held through its commit).
    assert [s for s in counted.sent if "live_event" in s] == []
    async with pool.acquire() as connection:
        assert await _statuses(connection, referral_id) == [
            ("in-app", "sent"),
            ("line", "sent"),
            ("webhook", "sent"),
        ]
        attempts = await connection.fetchval(
            "SELECT attempts FROM delivery WHERE referral_id = $1 AND channel = 'in-app'",
            referral_id,
        )
    assert attempts == 1  # the delivery log shows it tried once, and sent
    assert pages.sent == []  # was the in-app delivery: claimed and sent by the dispatcher


async def _dispatched(
    pool: asyncpg.Pool, channels: dict[Channel, DeliveryChannel], *, referral_id: str
) -> None:
    dispatcher = dispatcher_on(pool, channels)

    async def settled() -> bool:
        pending: int = await pool.fetchval(
            "SELECT count(*) FROM delivery WHERE referral_id = $1 AND status = 'pending'",
            referral_id,
        )
        return pending == 0

    dispatcher.start()
    try:
        await eventually(settled, timeout=20, what="the request's deliveries settled")
        await asyncio.sleep(0.2)  # the last settlement's statements noted
    finally:
        await dispatcher.stop()
