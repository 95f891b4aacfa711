"""End-to-end harness: the three services as OS processes, and a webhook receiver they call."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition
from fastapi import FastAPI, Request, Response

from shared.messaging import headers
from tests.fakes.server import serve_app
from tests.fakes.sms_gateway import FakeSmsGateway
from tests.support import (
    ROOT,
    TestStack,
    as_hospital,
    eventually,
    referral_bundle,
    shifted_port,
)

SERVICE_PORTS = {
    "referral": shifted_port(18001),
    "telemedicine": shifted_port(18002),
    "notifier": shifted_port(18003),
}
NOTIFIER_URL = f"http://127.0.0.1:{SERVICE_PORTS['notifier']}"
TELEMEDICINE_URL = f"http://127.0.0.1:{SERVICE_PORTS['telemedicine']}"
WEBHOOK_PORT = shifted_port(18099)
SMS_GATEWAY_PORT = shifted_port(18097)
SMS_API_KEY = "test-sms-key"
SMS_CALLBACK_TOKEN = "test-sms-callback-token"
LINE_API_PORT = shifted_port(18096)
LINE_TOKEN, LINE_SECRET = "test-line-token", "test-line-secret"
# Hat Samran is reached by e-mail first (not configured in the tests: it fails for good) and
# falls back to SMS; Wang Wiset on LINE; Ratsada by SMS, escalating to its group's phone; Kantang
# pages its on-call stroke neurologist (a 24-hour shift every day), with a group and a backup;
# every other hospital through the webhook. Unacknowledged alerts escalate after 2 s here.
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ON_CALL_PHONE, GROUP_PHONE, BACKUP_PHONE = "0844444444", "0855555555", "0866666666"
# Kantang's stroke lead: the teleconsult ladder's last rung (after the backup).
STROKE_LEAD_PHONE = "0888888888"
# Kantang's teleconsult ladder runs in seconds here: backup, stroke lead, failed to connect.
KANTANG_LADDER_S = (4.0, 8.0, 12.0)
KANTANG_PHONE = "075-251-100"
CHECK_IN_REMIND_S = 3
# Dr Far-away's phone is off (the SMS gateway reports it undelivered); LINE reaches them.
FAR_AWAY_PHONE, FAR_AWAY_LINE = "0877777777", "Ufar-away"
CONTACTS = {
    "people": {
        "dr-on-call": {
            "language": "en",
            "channels": [{"channel": "sms", "address": ON_CALL_PHONE}],
        },
        "dr-backup": {"language": "th", "channels": [{"channel": "sms", "address": BACKUP_PHONE}]},
        "dr-lead": {
            "language": "en",
            "channels": [{"channel": "sms", "address": STROKE_LEAD_PHONE}],
        },
        "dr-far-away": {
            "language": "en",
            "channels": [
                {"channel": "sms", "address": FAR_AWAY_PHONE},
                {"channel": "line", "address": FAR_AWAY_LINE},
            ],
        },
    },
    "hospitals": {
        "kantang-hospital": {
            "language": "th",
            "group": {"channel": "sms", "address": GROUP_PHONE},
            "roles": {
                "stroke-neurologist": {
                    "shifts": [
                        {
                            "person": "dr-on-call",
                            "days": EVERY_DAY,
                            "start": "00:00",
                            "end": "00:00",
                        }
                    ],
                    "backup": "dr-backup",
                },
                "stroke-lead": {
                    "shifts": [
                        {"person": "dr-lead", "days": EVERY_DAY, "start": "00:00", "end": "00:00"}
                    ]
                },
            },
            "on_call": {"*": "stroke-neurologist"},
        },
        "hat-samran-hospital": {
            "channels": [
                {"channel": "email", "address": "stroke@hat-samran.example"},
                {"channel": "sms", "address": "0812345678"},
            ]
        },
        "wang-wiset-hospital": {"channels": [{"channel": "line", "address": "Uwang-wiset-team"}]},
        "ratsada-hospital": {
            "language": "th",
            "channels": [{"channel": "sms", "address": "0811111111"}],
            "group": {"channel": "sms", "address": "0822222222"},
        },
    },
    "escalation": {"ack_within_s": 2, "ladder": ["repeat", "group", "backup"]},
}


@dataclass
class ReceivedNotification:
    idempotency_key: str
    body: dict[str, Any]
    headers: dict[str, str]
    received_at: float


@dataclass
class WebhookReceiver:
    """A hospital system's webhook endpoint: records calls, can hang chosen ones."""

    received: list[ReceivedNotification] = field(default_factory=list)
    # Calls for these referral ids hang until the event is set (to catch a sender mid-send).
    hang: dict[str, asyncio.Event] = field(default_factory=dict)
    hanging_now: set[str] = field(default_factory=set)
    # Calls for these referral ids are refused for good (410 Gone) while they are in the set.
    refuse: set[str] = field(default_factory=set)
    # Calls for these recipients ("Organization/<id>") are refused for good (410) while they are
    # in the set: a hub whose system refuses its pages, or a hospital the endpoint serves not.
    refuse_recipients: set[str] = field(default_factory=set)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/notify")
        async def notify(request: Request) -> Response:
            body = json.loads(await request.body())
            if body["referral"] in self.refuse or body.get("recipient") in self.refuse_recipients:
                return Response(status_code=410)
            release = self.hang.get(body["referral"])
            if release is not None and not release.is_set():
                self.hanging_now.add(body["referral"])
                await release.wait()
                return Response(status_code=503)  # the sender is gone by now anyway
            self.received.append(
                ReceivedNotification(
                    idempotency_key=request.headers["idempotency-key"],
                    body=body,
                    headers=dict(request.headers),
                    received_at=time.monotonic(),
                )
            )
            return Response(status_code=204)

        return app

    def for_referral(self, referral_id: str) -> list[ReceivedNotification]:
        return [n for n in self.received if n.body["referral"] == referral_id]


class ServiceProcesses:
    """Starts, kills and restarts the services; each writes its spans to a file."""

    def __init__(
        self,
        stack: TestStack,
        work_dir: Path,
        *,
        ports: dict[str, int] = SERVICE_PORTS,
        webhook_port: int = WEBHOOK_PORT,
    ) -> None:
        self.stack = stack
        self.work_dir = work_dir
        self.ports = ports
        self.webhook_port = webhook_port
        self.contacts_file = work_dir / "contacts.json"
        self.contacts_file.write_text(json.dumps(CONTACTS), encoding="utf-8")
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def trace_file(self, name: str) -> Path:
        return self.work_dir / f"{name}.spans.jsonl"

    def log_file(self, name: str) -> Path:
        return self.work_dir / f"{name}.log"

    def env(self, name: str) -> dict[str, str]:
        port = self.ports[name]
        return {
            **self.stack.env(),
            # Every service links to a consult (the referral service pages its first rung).
            "FT_TELEMEDICINE_PUBLIC_URL": f"http://127.0.0.1:{self.ports['telemedicine']}",
            f"FT_{name.upper()}_PORT": str(port),
            f"FT_{name.upper()}_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "FT_TRACE_FILE": str(self.trace_file(name)),
            "FT_NOTIFIER_WEBHOOK_URL": f"http://127.0.0.1:{self.webhook_port}/notify",
            "FT_NOTIFIER_CONTACTS_FILE": str(self.contacts_file),
            "FT_NOTIFIER_SMS_VENDOR": "generic",
            "FT_NOTIFIER_SMS_URL": f"http://127.0.0.1:{SMS_GATEWAY_PORT}/sms",
            "FT_NOTIFIER_SMS_API_KEY": SMS_API_KEY,
            "FT_NOTIFIER_SMS_CALLBACK_TOKEN": SMS_CALLBACK_TOKEN,
            "FT_NOTIFIER_ESCALATION_POLL_S": "0.5",
            "FT_NOTIFIER_LINE_BASE_URL": f"http://127.0.0.1:{LINE_API_PORT}",
            "FT_NOTIFIER_LINE_CHANNEL_TOKEN": LINE_TOKEN,
            "FT_NOTIFIER_LINE_CHANNEL_SECRET": LINE_SECRET,
            "FT_NOTIFIER_HTTP_TIMEOUT_S": "2",
            "FT_NOTIFIER_DELIVERY_LEASE_S": "3",
            "FT_NOTIFIER_BACKOFF_BASE_S": "0.2",
            "FT_OUTBOX_RETRY_S": "0.5",
            "FT_CONSUMER_RETRY_BACKOFF_S": "0.5",
            "FT_REFERRAL_DEADLINE_POLL_S": "0.5",
            "FT_REFERRAL_ALERT_POLL_S": "0.5",
            "FT_TELEMEDICINE_ESCALATION_POLL_S": "0.5",
            "FT_TELEMEDICINE_LADDER_BY_HUB": json.dumps({"kantang-hospital": KANTANG_LADDER_S}),
            "FT_TELEMEDICINE_HUB_PHONES": json.dumps({"kantang-hospital": KANTANG_PHONE}),
            # Home isolation: a missed check-in reminds after 3 s and alerts after 6 s here.
            "FT_TELEMEDICINE_MONITORING_PROGRAMMES": json.dumps(
                {"home-isolation": {"remind_after_s": CHECK_IN_REMIND_S, "alert_after_s": 6}}
            ),
            "FT_TELEMEDICINE_MONITORING_POLL_S": "0.5",
            # Every test signs people in from loopback (and the fuzzer fails many sign-ins): the
            # per-address limit would hold up tests that have nothing to do with it. It is
            # tested on its own in tests/integration/use_cases/test_sign_in.py.
            "FT_REFERRAL_SIGN_IN_MAX_FAILURES_PER_ADDRESS": "1000",
            # An open page's stream checks its person's session every second (15 s in
            # production): a signed-out page ends within a second, not a quarter minute.
            "FT_REFERRAL_PAGE_HEARTBEAT_S": "1",
            # The gauges read from the database and Kafka (GET /metrics) follow within a second
            # or two (not faster: each service asks Kafka for every group's offsets).
            "FT_METRICS_SAMPLE_INTERVAL_S": "1",
            "FT_REFERRAL_KPI_METRICS_INTERVAL_S": "1",
            # The console's stuck list: a referral without progress for 3 s (tests wait no
            # longer), and its trace links lead to the test stack's Zipkin.
            "FT_REFERRAL_CONSOLE_STUCK_AFTER_MIN": "0.05",
            "FT_TRACE_UI_URL": f"{self.stack.zipkin_url}/zipkin",
            # Spans reach the trace file within a fraction of a second.
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        }

    def spawn(self, name: str, **env: str) -> None:
        """Starts the service's process and returns at once; ``env`` overrides settings."""
        log = self.log_file(name).open("ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", f"services.{name}"],
            cwd=ROOT,
            env={**self.env(name), **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    async def start(self, name: str, *, timeout: float = 60) -> None:  # noqa: ASYNC109
        self.spawn(name)
        await self.wait_healthy(name, timeout=timeout)

    async def wait_healthy(self, name: str, timeout: float = 60) -> None:  # noqa: ASYNC109
        """Until the service is ready and its consumers have joined their group (readiness
        does not wait for the join; the tests want the whole system consuming)."""
        url = f"http://127.0.0.1:{self.ports[name]}/health/ready"
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.processes[name].poll() is not None:
                    raise RuntimeError(f"{name} exited:\n{self.log_file(name).read_text()[-3000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    response = await client.get(url, timeout=2)
                    if (
                        response.status_code == 200
                        and response.json()["consumers"]["status"] == "ok"
                    ):
                        return
                await asyncio.sleep(0.2)
        raise RuntimeError(f"{name} not healthy:\n{self.log_file(name).read_text()[-3000:]}")

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown hooks, no flush, no commit: a crash."""
        process = self.processes.pop(name)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()

    def spans(self, name: str) -> list[dict[str, Any]]:
        path = self.trace_file(name)
        if not path.exists():
            return []
        spans = []
        for line in path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(json.JSONDecodeError):  # a line being written right now
                spans.append(json.loads(line))
        return spans


async def serve_webhook(
    receiver: WebhookReceiver, port: int = WEBHOOK_PORT
) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    return await serve_app(receiver.app(), port)


# The hospital each referral of post_referral_to went to: a referral's delivery log is read with
# that hospital's key (the notifier shows it only to the hospitals its alerts went to).
_SENT_TO: dict[str, str] = {}


async def post_referral_to(api: httpx.AsyncClient, hospital: str) -> str:
    """The example referral (no teleconsult), sent to ``hospital``; returns its id."""
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    text = json.dumps(bundle).replace("Organization/trang-hospital", f"Organization/{hospital}")
    response = await api.post(
        "/fhir/$process-message", content=text, headers={"Content-Type": "application/fhir+json"}
    )
    assert response.status_code == 200, response.text
    _SENT_TO[referral_id] = hospital
    return referral_id


async def texts_about(gateway: FakeSmsGateway, referral_id: str) -> list[dict[str, Any]]:
    """The SMS sent about a referral: the gateway's reference is the delivery id, and an alert's
    text carries its acknowledgement link rather than the referral's."""
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{SERVICE_PORTS['notifier']}",
        headers=as_hospital(_SENT_TO.get(referral_id, "trang-hospital")),
    ) as notifier:
        response = await notifier.get("/deliveries", params={"referral": referral_id})
    if response.status_code != 200:
        # The notifier shows a referral's log only to a hospital its alerts went to: before the
        # first is recorded it answers 403 (an OperationOutcome). No text yet: callers poll.
        return []
    ids = {delivery["id"] for delivery in response.json()}
    return [m for m in gateway.messages if m["reference"] in ids]


async def texts_to(gateway: FakeSmsGateway, referral_id: str) -> list[str]:
    return [m["to"] for m in await texts_about(gateway, referral_id)]


# The span attribute naming a referral (shared/tracing.py), searched in the trace UI.
REFERRAL_ID = "fasttrack.referral.id"
Trace = list[dict[str, Any]]


async def traces_of(stack: TestStack, referral_id: str) -> list[Trace]:
    """The traces whose spans name the referral (Zipkin's tag search, as the UI runs it)."""
    async with httpx.AsyncClient(base_url=stack.zipkin_url, timeout=10) as zipkin:
        response = await zipkin.get(
            "/api/v2/traces",
            params={
                "annotationQuery": f"{REFERRAL_ID}={referral_id}",
                "lookback": str(3_600_000),
                "limit": "50",
            },
        )
    response.raise_for_status()
    traces: list[Trace] = response.json()
    return traces


def names(trace: Trace) -> set[str]:
    return {span.get("name", "") for span in trace}


async def intake_trace(stack: TestStack, referral_id: str, *needed: str) -> Trace:
    """The trace that began with the referral's intake, once it has spans named ``needed``
    (Zipkin lowercases span names)."""

    async def found() -> Trace | None:
        for trace in await traces_of(stack, referral_id):
            if "referral intake" in names(trace) and set(needed) <= names(trace):
                return trace
        return None

    return await eventually(found, what=f"the referral's trace with {needed}")


async def post_in_new_trace(
    api: httpx.AsyncClient, bundle: dict[str, Any]
) -> tuple[httpx.Response, str]:
    """Posts a referral as a hospital system that traces its own calls: with a ``traceparent``
    of a new trace, whose id is returned with the answer."""
    trace_id = secrets.token_hex(16)
    response = await api.post(
        "/fhir/$process-message",
        json=bundle,
        headers={
            "Content-Type": "application/fhir+json",
            "traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01",
        },
    )
    return response, trace_id


async def consult_of(referral_id: str, hospital: str) -> dict[str, Any]:
    """The referral's teleconsult, once telemedicine has opened it, as ``hospital`` lists it."""
    async with httpx.AsyncClient(base_url=TELEMEDICINE_URL, headers=as_hospital(hospital)) as api:

        async def listed() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = (
                await api.get("/consults", params={"referral": referral_id})
            ).json()
            return found

        (consult,) = await eventually(listed, what="the consult")
    return consult


async def wait_until_consumed(
    stack: TestStack, group: str, topic: str, partition: int, offset: int
) -> None:
    """Until ``group`` has committed past ``offset`` of ``topic``'s ``partition``."""
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.bootstrap_servers)
    await admin.start()
    try:

        async def committed_past() -> bool:
            offsets = await admin.list_consumer_group_offsets(group)
            meta = offsets.get(TopicPartition(topic, partition))
            return meta is not None and meta.offset > offset

        await eventually(committed_past, what=f"{group} to commit past offset {offset}")
    finally:
        await admin.close()


async def dead_letter_reason(stack: TestStack, topic: str, key: str) -> str:
    """The reason of the dead letter keyed ``key`` on ``topic``'s twin (read as an operator)."""
    consumer = AIOKafkaConsumer(
        f"{topic}.dlq",
        bootstrap_servers=stack.bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:

        async def reason() -> str | None:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    if record.key == key.encode():
                        found: bytes = dict(record.headers)[headers.DEAD_LETTER_REASON]
                        return found.decode()
            return None

        return await eventually(reason, what=f"the dead letter of {key} on {topic}.dlq")
    finally:
        await consumer.stop()
