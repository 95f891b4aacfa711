"""The page to the hub's on-call consultant leaves with the referral: the referral service
writes it in the intake's own transaction, so between the referral's arrival and the page there
is one Kafka record (notification-requested), not two (referral-requested to telemedicine, then
its page). Telemedicine still opens the consult from the referral event, records that page as
its ladder's first rung and escalates from it (tests/e2e/test_teleconsult_workflow.py); an
acknowledgement that comes before the consult opened is kept and accepts it as it opens.

Every record a service publishes goes through its outbox (shared/messaging/outbox.py), so the
outbox rows keyed by the referral are exactly its Kafka records, counted whatever the load."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import httpx
import pytest

from shared.messaging.topics import NOTIFICATION_REQUESTS, REFERRAL_EVENTS, TELEMEDICINE_EVENTS
from tests.e2e.harness import NOTIFIER_URL, TELEMEDICINE_URL, ServiceProcesses, consult_of
from tests.support import as_hospital, eventually, referral_bundle

pytestmark = pytest.mark.e2e

HUB = "trang-hospital"  # the default ladder: minutes before the backup is paged
ON_CALL = f"PractitionerRole/{HUB}.stroke-neurologist"


async def _ask_teleconsult(referral_api: httpx.AsyncClient) -> str:
    bundle, referral_id, _ = referral_bundle(teleconsult=True)
    response = await referral_api.post(
        "/fhir/$process-message",
        content=json.dumps(bundle),
        headers={"Content-Type": "application/fhir+json"},
    )
    assert response.status_code == 200, response.text
    return referral_id


async def _published(
    database: asyncpg.Pool, schema: str, referral_id: str
) -> list[tuple[str, str]]:
    """(topic, event) of every record ``schema``'s service queued about the referral."""
    rows = await database.fetch(
        # ``schema`` is one of the services' names, never input.
        f"SELECT topic, event_code FROM {schema}.outbox WHERE message_key = $1 ORDER BY id",  # noqa: S608
        referral_id,
    )
    return [(row["topic"], row["event_code"]) for row in rows]


async def _pages_to_on_call(notifier: httpx.AsyncClient, referral_id: str) -> list[dict[str, Any]]:
    log: list[dict[str, Any]] = (
        await notifier.get("/deliveries", params={"referral": referral_id})
    ).json()
    return [d for d in log if d["addressed_to"] == ON_CALL and d["channel"] == "webhook"]


async def test_the_on_call_page_is_queued_with_the_referral_and_telemedicine_sends_no_other(
    referral_api: httpx.AsyncClient, database: asyncpg.Pool
) -> None:
    referral_id = await _ask_teleconsult(referral_api)

    consult = await consult_of(referral_id, HUB)

    # The referral service's intake transaction queued the referral event, the page of the
    # consult's first rung and the stroke team's alert.
    referral_records = await _published(database, "referral", referral_id)
    assert referral_records == [
        (REFERRAL_EVENTS.name, "referral-requested"),
        (NOTIFICATION_REQUESTS.name, "notification-requested"),
        (NOTIFICATION_REQUESTS.name, "notification-requested"),
    ]
    page = await database.fetchval(
        """SELECT payload FROM referral.outbox
           WHERE message_key = $1 AND topic = $2 ORDER BY id LIMIT 1""",
        referral_id,
        NOTIFICATION_REQUESTS.name,
    )
    request = json.loads(page)["entry"][1]["resource"]
    assert request["id"] == f"cp0-{consult['id']}"
    assert request["recipient"] == [{"reference": ON_CALL}]
    # Telemedicine, which opened the consult (committed: it lists it), paged nobody again; it
    # announced the request and its paging step in one event.
    assert await _published(database, "telemedicine", referral_id) == [
        (TELEMEDICINE_EVENTS.name, "teleconsult-requested"),
    ]


async def test_the_on_call_consultant_is_paged_while_telemedicine_is_down_and_their_answer_counts(
    referral_api: httpx.AsyncClient, services: ServiceProcesses
) -> None:
    services.kill("telemedicine")
    try:
        referral_id = await _ask_teleconsult(referral_api)
        async with httpx.AsyncClient(base_url=NOTIFIER_URL, headers=as_hospital(HUB)) as notifier:
            (delivery,) = await eventually(
                lambda: _pages_to_on_call(notifier, referral_id),
                what="the on-call page with telemedicine down",
            )
            answer = await notifier.post(f"/deliveries/{delivery['id']}/acknowledge")
            assert answer.status_code == 200, answer.text
    finally:
        await services.start("telemedicine")

    async def accepted() -> dict[str, Any] | None:
        listed = await consult_of(referral_id, HUB)
        async with httpx.AsyncClient(
            base_url=TELEMEDICINE_URL, headers=as_hospital(HUB)
        ) as telemedicine:
            consult: dict[str, Any] = (await telemedicine.get(f"/consults/{listed['id']}")).json()
        return consult if consult["stage"] == "accepted" else None

    consult = await eventually(accepted, what="the consult accepted as it opens", timeout=60)
    # Accepted by the page's answer as the consult opened: nobody further up the ladder paged.
    assert [(step["stage"], step["rung"]) for step in consult["steps"]] == [
        ("paging", 0),
        ("accepted", 0),
    ]
    async with httpx.AsyncClient(base_url=NOTIFIER_URL, headers=as_hospital(HUB)) as notifier:
        assert len(await _pages_to_on_call(notifier, referral_id)) == 1
