"""Personal data (PDPA): names, national ids and free text never reach a log line, a span or a
metric (every service's GET /metrics, labels included);
every read of a referral leaves an audit event; after the retention period the purge job erases
what ties a referral to a person."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from services.notifier.adapters import retention as notifier_retention
from services.referral.adapters import retention as referral_retention
from shared.db.pool import create_pool
from shared.retention import purge
from tests.e2e.harness import SERVICE_PORTS, ServiceProcesses, WebhookReceiver, traces_of
from tests.metrics_scrape import scrape
from tests.support import TestStack, as_hospital, eventually, hospital_message, referral_bundle

pytestmark = pytest.mark.e2e

SPOKE, HUB = "sikao-hospital", "trang-hospital"
FHIR_JSON = {"Content-Type": "application/fhir+json"}
THAI_CITIZEN_ID = "https://www.dopa.go.th/citizen-id"


def _patient(bundle: dict[str, Any]) -> dict[str, Any]:
    patient: dict[str, Any] = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    return patient


async def _refer_and_decline(
    referral_api: httpx.AsyncClient,
    webhook: WebhookReceiver,
    *,
    name: str,
    citizen_id: str,
    hospital_number: str,
    reason: str,
) -> str:
    """A referral naming the patient, declined with a free-text reason that the referring
    hospital is told (so the text went through the notifier); returns the referral id."""
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    patient = _patient(bundle)
    patient["name"] = [{"family": name, "given": [name]}]
    patient["identifier"] = [
        {
            "system": "https://fasttrack.example.org/fhir/NamingSystem/hospital-number",
            "value": hospital_number,
        },
        {"system": THAI_CITIZEN_ID, "value": citizen_id},
    ]
    sent = await referral_api.post("/fhir/$process-message", json=bundle, headers=FHIR_JSON)
    assert sent.status_code == 200, sent.text
    decline, _ = hospital_message(
        "referral-declined",
        sender=HUB,
        receiver=SPOKE,
        referral_id=referral_id,
        status="rejected",
        status_reason=reason,
    )
    declined = await referral_api.post(
        "/fhir/$process-message", json=decline, headers={**FHIR_JSON, **as_hospital(HUB)}
    )
    assert declined.status_code == 200, declined.text

    async def told() -> bool:
        return any(reason in n.body["text"] for n in webhook.for_referral(referral_id))

    await eventually(told, what="the decline notice with its reason")
    return referral_id


async def test_names_national_ids_and_free_text_never_reach_logs_spans_or_metrics(
    referral_api: httpx.AsyncClient,
    webhook: WebhookReceiver,
    services: ServiceProcesses,
    stack: TestStack,
) -> None:
    marker = secrets.token_hex(6)
    name = f"Somchai{marker}"
    citizen_id = "1" + "".join(str(secrets.randbelow(10)) for _ in range(12))
    hospital_number = f"HN{marker}"
    reason = f"no-bed-note-{marker}"
    referral_id = await _refer_and_decline(
        referral_api,
        webhook,
        name=name,
        citizen_id=citizen_id,
        hospital_number=hospital_number,
        reason=reason,
    )
    planted = {
        "name": name,
        "national id": citizen_id,
        "hospital number": hospital_number,
        "free text": reason,
    }
    files = [
        path
        for service in SERVICE_PORTS
        for path in (services.log_file(service), services.trace_file(service))
    ]

    async def spans_written() -> bool:
        # The decline's spans are exported once the notifier has sent the notice.
        return any(services.spans(service) for service in SERVICE_PORTS)

    await eventually(spans_written, what="exported spans")
    leaks = [
        f"{what} in {Path(path).name}"
        for path in files
        if path.exists()
        for what, value in planted.items()
        if value in path.read_text(encoding="utf-8", errors="replace")
    ]
    # The notifier's delivery figures (channel, outcome labels) were taken after the notice went.
    for service, port in SERVICE_PORTS.items():
        text, samples = await scrape(f"http://127.0.0.1:{port}")
        assert samples, f"{service} exported no metrics"
        leaks += [f"{what} in {service}'s /metrics" for what, v in planted.items() if v in text]
    assert leaks == []
    assert all(path.exists() and path.stat().st_size > 0 for path in files)
    # What the trace UI stores of the referral (Zipkin on the test stack) holds none of it either.
    stored = json.dumps(
        await eventually(lambda: traces_of(stack, referral_id), what="the referral's traces")
    )
    assert [what for what, value in planted.items() if value in stored] == []


@pytest.fixture(scope="module")
async def referral_db(stack: TestStack) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(stack.database_url, schema="referral", max_size=2)
    yield pool
    await pool.close()


@pytest.fixture(scope="module")
async def notifier_db(stack: TestStack) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(stack.database_url, schema="notifier", max_size=2)
    yield pool
    await pool.close()


async def test_every_read_of_a_referral_leaves_an_audit_event(
    referral_api: httpx.AsyncClient, referral_db: asyncpg.Pool
) -> None:
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    assert (
        await referral_api.post("/fhir/$process-message", json=bundle, headers=FHIR_JSON)
    ).status_code == 200
    for path in (
        f"/referrals/{referral_id}",
        f"/fhir/Task/{referral_id}",
        f"/fhir/ServiceRequest/sr-{referral_id}",
        f"/fhir/Task?patient=Patient/p-{referral_id}",
    ):
        assert (await referral_api.get(path, headers=as_hospital(HUB))).status_code == 200
    # A refused read is not a read.
    assert (
        await referral_api.get(f"/fhir/Task/{referral_id}", headers=as_hospital("palian-hospital"))
    ).status_code == 403
    rows = await referral_db.fetch(
        "SELECT agent, action, via FROM audit_event WHERE referral_id = $1 ORDER BY id",
        referral_id,
    )
    assert [tuple(row) for row in rows] == [
        (f"Organization/{HUB}", "R", "GET /referrals/{referral_id}"),
        (f"Organization/{HUB}", "R", "GET /fhir/Task/{task_id}"),
        (f"Organization/{HUB}", "R", "GET /fhir/ServiceRequest/{request_id}"),
        (f"Organization/{HUB}", "E", "GET /fhir/Task"),
    ]


async def test_the_purge_erases_a_closed_referrals_personal_data_after_retention(
    referral_api: httpx.AsyncClient,
    webhook: WebhookReceiver,
    referral_db: asyncpg.Pool,
    notifier_db: asyncpg.Pool,
) -> None:
    reason = f"no bed {uuid.uuid4()}"
    referral_id = await _refer_and_decline(
        referral_api,
        webhook,
        name="Somsri",
        citizen_id="1234567890123",
        hospital_number="HN-PURGE",
        reason=reason,
    )

    async def all_sent() -> bool:
        pending: int = await notifier_db.fetchval(
            "SELECT count(*) FROM delivery WHERE referral_id = $1 AND status = 'pending'",
            referral_id,
        )
        return pending == 0

    await eventually(all_sent, what="every delivery out of the queue")

    async def all_published() -> bool:
        # The relay marks a batch sent with its next round, at most a second later.
        unmarked: int = await referral_db.fetchval(
            "SELECT count(*) FROM outbox WHERE message_key = $1 AND published_at IS NULL",
            referral_id,
        )
        return unmarked == 0

    await eventually(all_published, what="the referral's events marked published")
    # This referral's records are made a year old; everything else in the test database is new.
    a_year_ago = datetime.now(UTC) - timedelta(days=365)
    await referral_db.execute(
        "UPDATE referral SET updated_at = $2 WHERE id = $1", referral_id, a_year_ago
    )
    await referral_db.execute(
        "UPDATE timeline_entry SET recorded_at = $2 WHERE referral_id = $1", referral_id, a_year_ago
    )
    await referral_db.execute(
        "UPDATE outbox SET published_at = $2 WHERE message_key = $1 AND published_at IS NOT NULL",
        referral_id,
        a_year_ago,
    )
    await notifier_db.execute(
        "UPDATE delivery SET created_at = $2 WHERE referral_id = $1", referral_id, a_year_ago
    )
    cutoff = datetime.now(UTC) - timedelta(days=180)
    await purge(referral_db, referral_retention.PERSONAL_DATA, cutoff=cutoff)
    await purge(notifier_db, notifier_retention.PERSONAL_DATA, cutoff=cutoff)

    assert (
        await referral_db.fetchval("SELECT patient_hn FROM referral WHERE id = $1", referral_id)
        == ""
    )
    details = await referral_db.fetch(
        "SELECT detail FROM timeline_entry WHERE referral_id = $1", referral_id
    )
    assert details
    assert not any(reason in json.dumps(row["detail"]) for row in details)
    assert (
        await referral_db.fetchval(
            "SELECT count(*) FROM outbox WHERE message_key = $1", referral_id
        )
        == 0
    )
    deliveries = await notifier_db.fetch(
        "SELECT body, address FROM delivery WHERE referral_id = $1", referral_id
    )
    assert deliveries
    assert not any(reason in json.dumps(row["body"]) for row in deliveries)
    assert all(row["address"] == "" for row in deliveries)
    # The referral itself, its states and times stay (the network's figures need them).
    kept = (await referral_api.get(f"/referrals/{referral_id}")).json()
    assert kept["status"] == "rejected"
    # (A notification-sent may come between them: the page can go out before the decline.)
    steps = [s["event"] for s in kept["timeline"] if s["event"].startswith("referral-")]
    assert steps[:2] == ["referral-requested", "referral-declined"]
