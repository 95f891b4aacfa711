"""The watchers of deadlines, escalations and reminders sleep until work falls due: an idle
service sends the database nothing for a minute (they polled every 5 s: a statement, or a
transaction, each time), and work written while they sleep still fires on time, woken by the
writing transaction's NOTIFY (not by a poll: the re-check is a minute away).

Each service's watchers run as its composition root wires them, with the production intervals,
on a private schema migrated by the service's own history; every statement they send is counted
with asyncpg's query logger."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from opentelemetry import trace

from services.notifier.domain.contacts import ContactBook
from services.notifier.domain.model import Channel, Delivery, RetryPolicy
from services.notifier.service.handlers import accept_notification_request
from services.notifier.workers.dispatcher import DELIVERY_CHANNEL, DeliveryDispatcher
from services.notifier.workers.escalation import ALERT_SENT_CHANNEL, EscalationWatcher
from services.referral.adapters import page_events
from services.referral.service.context import ReferralContext
from services.referral.service.intake import request_referral
from services.referral.workers.alerts import CLOCK_CHANNEL, AlertWatcher
from services.referral.workers.deadlines import DEADLINE_CHANNEL, DeadlineWatcher
from services.telemedicine.service import consult_opening
from services.telemedicine.workers.check_in_reminders import CHECK_IN_CHANNEL, MissedCheckIns
from services.telemedicine.workers.escalation import DEADLINE_CHANNEL as CONSULT_CHANNEL
from services.telemedicine.workers.escalation import ConsultEscalation
from shared.workers import DatabaseNotices, ScheduledTask
from tests.integration.notifier_use_cases.support import CONTACTS, stroke_alert
from tests.integration.telemedicine_use_cases.support import CONTEXT as TELEMEDICINE
from tests.integration.telemedicine_use_cases.test_first_page import (
    _referral_asking_a_teleconsult,
)
from tests.integration.use_cases.support import CONTEXT as REFERRAL
from tests.integration.use_cases.support import add_test_directory, referral_request
from tests.support import eventually
from tests.use_case_database import CountedPool, migrated_schema, stack_postgres_url

pytestmark = pytest.mark.integration

# The production intervals (services/*/config.py): how often each watcher polled.
POLL_S = 5.0
MONITORING_POLL_S = 30.0
# Longer than one of the old polls of each 5 s watcher: any such window held at least one.
IDLE_S = 6.0


@pytest.fixture(scope="module")
def postgres() -> str:
    return stack_postgres_url()


async def _schema_of(pool: asyncpg.Pool) -> str:
    schema: str = await pool.fetchval("SELECT current_schema()")
    return schema


@pytest.fixture(scope="module")
async def referral_schema(postgres: str) -> AsyncIterator[asyncpg.Pool]:
    async with migrated_schema(postgres, service="referral") as pool:
        await add_test_directory(pool)
        yield pool


@pytest.fixture(scope="module")
async def telemedicine_schema(postgres: str) -> AsyncIterator[asyncpg.Pool]:
    async with migrated_schema(postgres, service="telemedicine") as pool:
        yield pool


@pytest.fixture(scope="module")
async def notifier_schema(postgres: str) -> AsyncIterator[asyncpg.Pool]:
    async with migrated_schema(postgres, service="notifier") as pool:
        yield pool


async def _running(tasks: Sequence[ScheduledTask | DatabaseNotices]) -> None:
    """Started, and past their first rounds (at start, and when the listener connected):
    each asleep with its next round more than the idle window away."""
    for task in tasks:
        task.start()
    watchers = [task for task in tasks if isinstance(task, ScheduledTask)]

    async def asleep() -> bool:
        await asyncio.sleep(0.5)
        planned = [w._planned for w in watchers]
        return all(p is not None and p > time.time() + IDLE_S for p in planned)

    await eventually(asleep, timeout=30, what="the watchers' first rounds")


async def _stopped(tasks: Sequence[ScheduledTask | DatabaseNotices]) -> None:
    for task in tasks:
        await task.stop()


def _referral_watchers(
    pool: asyncpg.Pool, schema: str, context: ReferralContext = REFERRAL
) -> tuple[DeadlineWatcher, AlertWatcher, DatabaseNotices]:
    """As services/referral/bootstrap.py wires them."""
    deadlines = DeadlineWatcher(pool=pool, context=context, retry_s=POLL_S)
    alert_watcher = AlertWatcher(pool=pool, context=context, retry_s=POLL_S)
    notices = DatabaseNotices(
        pool=pool,
        handlers={
            DEADLINE_CHANNEL + schema: [deadlines.notice, alert_watcher.notice_change],
            CLOCK_CHANNEL + schema: [alert_watcher.notice_change],
            page_events.TIMELINE_CHANNEL + schema: [alert_watcher.notice_change],
        },
    )
    return deadlines, alert_watcher, notices


def _telemedicine_watchers(
    pool: asyncpg.Pool, schema: str
) -> tuple[ConsultEscalation, MissedCheckIns, DatabaseNotices]:
    """As services/telemedicine/bootstrap.py wires them."""
    from services.telemedicine.config import TelemedicineSettings
    from services.telemedicine.service.monitoring_context import MonitoringContext
    from shared.signed_links import LinkSigner

    monitoring = MonitoringContext(
        consults=TELEMEDICINE,
        programmes=TelemedicineSettings().monitoring_programmes(),
        check_in_links=LinkSigner(secret="test-secret-" + "x" * 32, purpose="test", max_age_s=60),
        default_consultant_hospital=None,
    )
    escalation = ConsultEscalation(pool=pool, context=TELEMEDICINE, retry_s=POLL_S)
    check_ins = MissedCheckIns(pool=pool, context=monitoring, retry_s=MONITORING_POLL_S)
    notices = DatabaseNotices(
        pool=pool,
        handlers={
            CONSULT_CHANNEL + schema: [escalation.notice],
            CHECK_IN_CHANNEL + schema: [check_ins.notice_check_in],
        },
    )
    return escalation, check_ins, notices


@pytest.fixture(scope="module")
async def sent_while_idle(
    postgres: str,
    referral_schema: asyncpg.Pool,
    telemedicine_schema: asyncpg.Pool,
    notifier_schema: asyncpg.Pool,
) -> dict[str, list[str]]:
    """What each service's watchers (and the notifier's dispatcher) sent through one idle window,
    each on a counted pool of its own: all started together and idle together (one after the
    other, the four windows took four times as long), then stopped before the module's other
    tests use the schemas."""
    counted = {name: CountedPool() for name in ("referral", "telemedicine", "escalation", "sender")}
    async with AsyncExitStack() as stack:

        async def opened(name: str, schema_pool: asyncpg.Pool) -> tuple[asyncpg.Pool, str]:
            schema = await _schema_of(schema_pool)
            pool = await counted[name].open(postgres, schema)
            stack.push_async_callback(pool.close)
            return pool, schema

        pool, schema = await opened("referral", referral_schema)
        referral = _referral_watchers(pool, schema)
        pool, schema = await opened("telemedicine", telemedicine_schema)
        telemedicine = _telemedicine_watchers(pool, schema)
        pool, schema = await opened("escalation", notifier_schema)
        escalation_watcher = EscalationWatcher(
            pool=pool, contacts=ContactBook(), source_endpoint="test", retry_s=POLL_S
        )
        escalation = (
            escalation_watcher,
            DatabaseNotices(
                pool=pool, handlers={ALERT_SENT_CHANNEL + schema: [escalation_watcher.notice_sent]}
            ),
        )
        pool, schema = await opened("sender", notifier_schema)
        dispatcher = _dispatcher(pool, SentChannel())
        notices = DatabaseNotices(
            pool=pool, handlers={DELIVERY_CHANNEL + schema: [dispatcher.notice]}
        )
        for tasks in (referral, telemedicine, escalation):
            stack.push_async_callback(_stopped, tasks)
        stack.push_async_callback(notices.stop)
        stack.push_async_callback(dispatcher.stop)

        async def dispatcher_asleep() -> None:
            notices.start()
            dispatcher.start()
            await asyncio.sleep(POLL_S + 2)  # its first claims, and the listener's "look now"

        await asyncio.gather(
            _running(referral), _running(telemedicine), _running(escalation), dispatcher_asleep()
        )
        for each in counted.values():
            each.sent.clear()

        await asyncio.sleep(IDLE_S)

        return {name: list(each.sent) for name, each in counted.items()}


async def test_an_idle_referral_services_watchers_send_no_statement(
    sent_while_idle: dict[str, list[str]],
) -> None:
    # Polling, the deadline and alert watchers sent a statement each every 5 s: 2 here.
    assert sent_while_idle["referral"] == []


async def test_an_idle_telemedicine_services_watchers_send_no_statement(
    sent_while_idle: dict[str, list[str]],
) -> None:
    # Polling, the consult escalation sent a statement every 5 s (check-ins every 30 s): 1 here.
    assert sent_while_idle["telemedicine"] == []


async def test_an_idle_notifiers_escalation_watcher_sends_no_statement(
    sent_while_idle: dict[str, list[str]],
) -> None:
    # Polling, it ran a transaction every 5 s (BEGIN, SELECT ... FOR UPDATE, COMMIT): one here.
    assert sent_while_idle["escalation"] == []


async def test_an_idle_dispatcher_sends_no_statement(
    sent_while_idle: dict[str, list[str]],
) -> None:
    # Idle, it claimed and asked when the next delivery is due every 5 s: 2 statements.
    assert sent_while_idle["sender"] == []


async def test_a_referral_written_while_the_watcher_sleeps_is_rerouted_at_its_deadline(
    postgres: str, referral_schema: asyncpg.Pool
) -> None:
    schema = await _schema_of(referral_schema)
    pool = await CountedPool().open(postgres, schema)
    context = replace(REFERRAL, accept_within=timedelta(seconds=3))
    deadlines, _, notices = _referral_watchers(pool, schema, context)
    tasks = (deadlines, notices)
    try:
        await _running(tasks)
        rounds = deadlines.rounds

        async with referral_schema.acquire() as connection, connection.transaction():
            referral_id = await request_referral(
                connection,
                request=referral_request(requested_at=datetime.now(UTC)),
                context=context,
            )
        accept_by: datetime = await referral_schema.fetchval(
            "SELECT accept_by FROM referral WHERE id = $1", referral_id
        )

        async def rerouted() -> datetime | None:
            replaced: str | None = await referral_schema.fetchval(
                "SELECT replaced_by FROM referral WHERE id = $1", referral_id
            )
            return datetime.now(UTC) if replaced else None

        at = await eventually(rerouted, timeout=30, what="the re-routing at the deadline")
    finally:
        await _stopped(tasks)
        await pool.close()

    # Not before its deadline, and by the one round the deadline woke (not a poll, not the
    # minute's re-check: a loaded machine's scheduling is the only slack).
    assert accept_by <= at < accept_by + timedelta(seconds=10)
    assert deadlines.rounds - rounds in (1, 2)  # the deadline's; the replacement's own notice


async def test_a_consult_paged_while_the_watcher_sleeps_goes_up_the_ladder_on_time(
    postgres: str, telemedicine_schema: asyncpg.Pool
) -> None:
    schema = await _schema_of(telemedicine_schema)
    pool = await CountedPool().open(postgres, schema)
    ladder = replace(TELEMEDICINE.ladder, backup_after=timedelta(seconds=3))
    context = replace(TELEMEDICINE, ladder=ladder)
    escalation = ConsultEscalation(pool=pool, context=context, retry_s=POLL_S)
    notices = DatabaseNotices(pool=pool, handlers={CONSULT_CHANNEL + schema: [escalation.notice]})
    tasks = (escalation, notices)
    try:
        await _running(tasks)
        rounds = escalation.rounds
        message, _ = _referral_asking_a_teleconsult()

        async with telemedicine_schema.acquire() as connection, connection.transaction():
            consult = await consult_opening.open_consult_if_requested(
                connection, message, context=context, now=datetime.now(UTC)
            )
        assert consult is not None
        assert consult.next_deadline is not None
        due = consult.next_deadline

        async def escalated() -> datetime | None:
            rung: int = await telemedicine_schema.fetchval(
                "SELECT rung FROM consult WHERE id = $1", consult.id
            )
            return datetime.now(UTC) if rung > consult.rung else None

        at = await eventually(escalated, timeout=30, what="the backup paged at the deadline")
    finally:
        await _stopped(tasks)
        await pool.close()

    assert due <= at < due + timedelta(seconds=10)
    assert escalation.rounds - rounds in (1, 2)  # the deadline's; the next rung's own notice


class SentChannel:
    """Every channel of the notifier, recording what it sent and when."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, float]] = []

    async def send(self, delivery: Delivery) -> None:
        self.sent.append((delivery.referral_id, time.time()))


def _dispatcher(pool: asyncpg.Pool, channel: SentChannel) -> DeliveryDispatcher:
    """As services/notifier/bootstrap.py wires it, with the production intervals."""
    return DeliveryDispatcher(
        pool=pool,
        channels=dict.fromkeys((Channel.WEBHOOK, Channel.LINE, Channel.SMS), channel),
        contacts=CONTACTS,
        retry_policy=RetryPolicy(max_attempts=3, base_s=1, cap_s=10),
        tracer=trace.get_tracer("test"),
        source_endpoint="urn:test",
        lease_s=30,
        poll_interval_s=0.5,
        idle_wait_s=POLL_S,
        send_timeout_s=5,
    )


async def test_a_delivery_another_instance_left_unsent_is_sent_by_a_sleeping_dispatcher(
    postgres: str, notifier_schema: asyncpg.Pool
) -> None:
    schema = await _schema_of(notifier_schema)
    pool = await CountedPool().open(postgres, schema)
    channel = SentChannel()
    dispatcher = _dispatcher(pool, channel)
    notices = DatabaseNotices(pool=pool, handlers={DELIVERY_CHANNEL + schema: [dispatcher.notice]})
    try:
        notices.start()
        dispatcher.start()
        await asyncio.sleep(POLL_S + 2)  # asleep, a minute from its re-check

        # Written as another instance's consumer writes it; that instance then dies: nothing
        # in this process wakes the dispatcher.
        referral_id = f"uc-ref-{time.time_ns()}"
        async with notifier_schema.acquire() as connection, connection.transaction():
            await accept_notification_request(
                connection, stroke_alert(referral_id), contacts=CONTACTS
            )
        written = time.time()

        async def sent() -> list[float] | None:
            return [at for sent_for, at in channel.sent if sent_for == referral_id] or None

        at = (await eventually(sent, timeout=40, what="the left-behind delivery sent"))[0]
    finally:
        await dispatcher.stop()
        await notices.stop()
        await pool.close()

    # idle_wait_s (5 s) after it fell due, as the poll did; far from the minute's re-check.
    assert written + POLL_S - 1 <= at < written + POLL_S + 15
