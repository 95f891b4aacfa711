"""Redelivery has no second effect; a service killed mid-work finishes it exactly once in effect."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from shared.messaging.topics import REFERRAL_EVENTS
from tests.e2e.harness import ServiceProcesses, WebhookReceiver, wait_until_consumed
from tests.support import TestStack, at_least, eventually, referral_bundle

pytestmark = pytest.mark.e2e

FHIR_JSON = {"Content-Type": "application/fhir+json"}


async def _post_referral(api: httpx.AsyncClient, *, teleconsult: bool) -> str:
    bundle, referral_id, _ = referral_bundle(teleconsult=teleconsult)
    response = await api.post("/fhir/$process-message", json=bundle, headers=FHIR_JSON)
    assert response.status_code == 200, response.text
    return referral_id


async def _count(database: asyncpg.Pool, sql: str, *args: object) -> int:
    value: int = await database.fetchval(sql, *args)
    return value


async def test_a_redelivered_message_has_no_second_effect(
    stack: TestStack,
    database: asyncpg.Pool,
    referral_api: httpx.AsyncClient,
    webhook: WebhookReceiver,
) -> None:
    referral_id = await _post_referral(referral_api, teleconsult=True)
    await eventually(
        lambda: _count(
            database, "SELECT count(*) FROM telemedicine.consult WHERE referral_id=$1", referral_id
        ),
        what="the consult",
    )
    # Publish the very same referral-requested message again (same message id), as a producer
    # retry or a replay would.
    row = await database.fetchrow(
        """SELECT message_id, payload FROM referral.outbox
           WHERE message_key = $1 AND event_code = 'referral-requested'""",
        referral_id,
    )
    assert row is not None
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap_servers, enable_idempotence=True)
    await producer.start()
    try:
        sent = await producer.send_and_wait(
            REFERRAL_EVENTS.name,
            bytes(row["payload"]),
            key=referral_id.encode(),
            headers=[("message-id", row["message_id"].encode())],
        )
    finally:
        await producer.stop()
    await wait_until_consumed(
        stack, "fasttrack-telemedicine", sent.topic, sent.partition, sent.offset
    )

    assert (
        await _count(
            database, "SELECT count(*) FROM telemedicine.consult WHERE referral_id=$1", referral_id
        )
        == 1
    )
    assert (
        await _count(
            database,
            "SELECT count(*) FROM telemedicine.outbox WHERE message_key=$1",
            referral_id,
        )
        == 1
    )  # teleconsult-requested (with its paging step), once (the consultant's first page is
    # the referral service's: tests/e2e/test_first_hop_page.py)
    await asyncio.sleep(1.0)
    assert len({n.idempotency_key for n in webhook.for_referral(referral_id)}) == 2


async def test_telemedicine_killed_mid_handling_finishes_the_work_exactly_once(
    database: asyncpg.Pool,
    services: ServiceProcesses,
    referral_api: httpx.AsyncClient,
    webhook: WebhookReceiver,
) -> None:
    # Hold the consult table so the telemedicine handler blocks mid-handling (its statement
    # waits for the lock), after it received the message and before anything of it committed.
    blocker = await database.acquire()
    transaction = blocker.transaction()
    await transaction.start()
    await blocker.execute("LOCK TABLE telemedicine.consult IN ACCESS EXCLUSIVE MODE")
    try:
        referral_id = await _post_referral(referral_api, teleconsult=True)
        await eventually(
            lambda: _count(
                database,
                # Waiting for this test's lock, not any lock (a relay's advisory lock is one).
                """SELECT count(*) FROM pg_stat_activity AS activity
                   JOIN pg_locks AS lock ON lock.pid = activity.pid
                   WHERE activity.application_name = 'fasttrack-telemedicine'
                     AND lock.relation = 'telemedicine.consult'::regclass
                     AND NOT lock.granted""",
            ),
            what="the telemedicine handler to block mid-transaction",
        )
        services.kill("telemedicine")
    finally:
        await transaction.rollback()
        await database.release(blocker)
    # The handler's work was one statement with the inbox claim inside it, sent before the kill:
    # PostgreSQL may still complete it once the lock is gone (its client dead), or not. Either
    # way, after the restart the consult exists once and the consultant is paged once.
    await services.start("telemedicine")
    await eventually(
        lambda: at_least(webhook.for_referral(referral_id), 2),
        timeout=90,
        what="both notifications after the restart",
    )
    await asyncio.sleep(1.0)
    assert (
        await _count(
            database, "SELECT count(*) FROM telemedicine.consult WHERE referral_id=$1", referral_id
        )
        == 1
    )
    texts = [n.body["text"] for n in webhook.for_referral(referral_id)]
    assert sum("Telestroke consult requested" in t for t in texts) == 1


async def test_notifier_killed_mid_send_delivers_once_in_effect_after_restart(
    database: asyncpg.Pool,
    services: ServiceProcesses,
    referral_api: httpx.AsyncClient,
    webhook: WebhookReceiver,
) -> None:
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    webhook.hang[referral_id] = asyncio.Event()
    response = await referral_api.post("/fhir/$process-message", json=bundle, headers=FHIR_JSON)
    assert response.status_code == 200

    async def caught_mid_send() -> bool:
        return referral_id in webhook.hanging_now

    await eventually(caught_mid_send, what="the notifier to be mid-send")
    services.kill("notifier")
    webhook.hang[referral_id].set()
    await services.start("notifier")

    received = await eventually(
        lambda: at_least(webhook.for_referral(referral_id), 1),
        timeout=60,
        what="the delivery after the restart",
    )

    async def on_timeline() -> list[tuple[str, str]] | None:
        steps = (await referral_api.get(f"/referrals/{referral_id}")).json()["timeline"]
        events = [(s["event"], (s["detail"].get("channel") or [""])[0]) for s in steps]
        return events if ("notification-sent", "webhook") in events else None

    events = await eventually(on_timeline, what="the delivery on the timeline")
    await asyncio.sleep(1.0)
    assert len({n.idempotency_key for n in webhook.for_referral(referral_id)}) == 1
    assert len(received) >= 1
    assert events.count(("notification-sent", "webhook")) == 1
    assert (
        await _count(
            database,
            "SELECT count(*) FROM notifier.delivery"
            " WHERE referral_id=$1 AND status='sent' AND channel='webhook'",
            referral_id,
        )
        == 1
    )
    # The hospital's web pages were shown the alert once.
    assert (
        await _count(
            database,
            "SELECT count(*) FROM notifier.live_event"
            " WHERE payload->>'referral' = $1 AND kind = 'notification'",
            referral_id,
        )
        == 1
    )


async def test_one_hanging_endpoint_does_not_delay_the_others(
    referral_api: httpx.AsyncClient, webhook: WebhookReceiver
) -> None:
    stuck_bundle, stuck_id, _ = referral_bundle(teleconsult=False)
    webhook.hang[stuck_id] = asyncio.Event()
    try:
        response = await referral_api.post(
            "/fhir/$process-message", json=stuck_bundle, headers=FHIR_JSON
        )
        assert response.status_code == 200

        async def stuck() -> bool:
            return stuck_id in webhook.hanging_now

        await eventually(stuck, what="the first delivery to hang")
        started = time.monotonic()
        other_id = await _post_referral(referral_api, teleconsult=False)
        await eventually(
            lambda: at_least(webhook.for_referral(other_id)), timeout=10, what="the other alert"
        )
        # Delivered while the first call still hangs (the send timeout is 2 s in the tests).
        assert time.monotonic() - started < 2
        assert stuck_id in webhook.hanging_now
        assert not webhook.for_referral(stuck_id)
    finally:
        webhook.hang[stuck_id].set()
