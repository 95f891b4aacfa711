"""Helpers the integration and end-to-end tests share: the real stack, fresh messages, polling."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from aiokafka import AIOKafkaConsumer

from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage, build_message
from shared.fhir.models import Task
from shared.messaging.topics import (
    HOSPITAL_INBOUND,
    NOTIFICATION_OUTCOMES,
    NOTIFICATION_REQUESTS,
    REFERRAL_EVENTS,
    TELEMEDICINE_EVENTS,
    Topic,
)
from shared.web_identity import CSRF_HEADER, IDENTITY_HEADER, IdentitySigner, PersonIdentity

if TYPE_CHECKING:
    from fastapi import FastAPI

ROOT = Path(__file__).resolve().parents[1]
# Every port the tests open is shifted by this much, so two checkouts can run the suite at once.
PORT_OFFSET = int(os.environ.get("FT_TEST_PORT_OFFSET", "0"))


# The session's stack keeps its state here; `make test` runs its two halves at once, each with a
# stack of its own (deploy/local/test.sh).
SESSION_STATE_DIR = Path(os.environ.get("FT_TEST_STATE_DIR", str(ROOT / ".local-stack" / "test")))


def shifted_port(base: int) -> int:
    """A loopback port of the test suite, shifted by FT_TEST_PORT_OFFSET."""
    return base + PORT_OFFSET


def local_cluster(state_dir: Path, command: str, *, port: int, **env: str) -> str:
    """``deploy/local/postgres.sh command`` for a cluster of a test's own in ``state_dir`` on
    ``port``, with PostgreSQL's durable defaults (fsync on) unless ``env`` opts out as the test
    suite's cluster does (``FT_PG_DURABILITY=off``); its output."""
    result = subprocess.run(
        ["bash", "deploy/local/postgres.sh", command],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k != "FT_PG_DURABILITY"},
            "FT_STATE_DIR": str(state_dir),
            "FT_PG_PORT": str(port),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


# The catalogue topics each service's consumers read (services/*/entrypoints/*consumers.py); the
# referral and telemedicine services also read every hospital's own topic (one partition each,
# by pattern): telemedicine for home-isolation check-ins.
TOPICS_READ: dict[str, tuple[Topic, ...]] = {
    "referral": (HOSPITAL_INBOUND, TELEMEDICINE_EVENTS, NOTIFICATION_OUTCOMES),
    "telemedicine": (REFERRAL_EVENTS, NOTIFICATION_OUTCOMES, HOSPITAL_INBOUND),
    "notifier": (NOTIFICATION_REQUESTS,),
}

# The services of the test stack share it; tests sign people's identities with it.
WEB_IDENTITY_SECRET = "test-web-identity-secret"
EXAMPLE_REFERRAL = ROOT / "examples" / "referral-requested.json"
# deploy/local/kafka.sh's heap (FT_KAFKA_HEAP_OPTS, the JVM options it passes first), and C1 only.
QUICK_KAFKA_START = "-Xms256m -Xmx512m -XX:TieredStopAtLevel=1"
T = TypeVar("T")


@dataclass(frozen=True)
class TestStack:
    __test__ = False  # a fixture value, not a test class

    """Ports of the test stack: separate from the development stack so both can run."""

    state_dir: Path
    kafka_port: int = shifted_port(29092)
    kafka_controller_port: int = shifted_port(29093)
    # The SASL_SSL listener for hospital systems (deploy/local/kafka.sh).
    kafka_hospital_port: int = shifted_port(29094)
    postgres_port: int = shifted_port(25432)
    # The reverse proxy of people's pages (deploy/local/proxy.sh) in front of the test services;
    # None: a stack without one (the chaos and benchmark stacks open no pages).
    proxy_port: int | None = None
    # Zipkin: the trace UI and the query API the tests read traces back from.
    zipkin_port: int = shifted_port(29411)
    # The suite's throwaway cluster trades durability for speed (an explicit opt-in of
    # deploy/local/postgres.sh); the benchmark and fault tests that crash PostgreSQL run durable.
    durable: bool = False
    # The broker's JVM with the JIT's first tier only: half the CPU of a start (11.8 -> 5.8 s
    # measured), and the suite starts four (the session's, the several instances', the short
    # chaos run's and its restart). Off for the benchmarks, which measure Kafka as deployed.
    quick_kafka_start: bool = False

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def zipkin_url(self) -> str:
        return f"http://127.0.0.1:{self.zipkin_port}"

    @property
    def database_url(self) -> str:
        return f"postgresql://fasttrack@127.0.0.1:{self.postgres_port}/fasttrack"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "FT_STATE_DIR": str(self.state_dir),
            "FT_KAFKA_PORT": str(self.kafka_port),
            "FT_KAFKA_CONTROLLER_PORT": str(self.kafka_controller_port),
            "FT_KAFKA_HOSPITAL_PORT": str(self.kafka_hospital_port),
            "FT_PG_PORT": str(self.postgres_port),
            "FT_ZIPKIN_PORT": str(self.zipkin_port),
            "FT_ZIPKIN_ENDPOINT": f"{self.zipkin_url}/api/v2/spans",
            "FT_PG_DURABILITY": "on" if self.durable else "off",
            "FT_KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
            "FT_DATABASE_URL": self.database_url,
            "FT_ENVIRONMENT": "test",
            "FT_PYTHON": sys.executable,
            "FT_API_KEYS": (ROOT / "deploy" / "demo" / "api-keys.json").read_text(encoding="utf-8"),
            "FT_OPERATOR_API_KEYS": (ROOT / "deploy" / "demo" / "operator-keys.json").read_text(
                encoding="utf-8"
            ),
            "FT_WEB_IDENTITY_SECRET": WEB_IDENTITY_SECRET,
            **self._proxy_env(),
            **({"FT_KAFKA_HEAP_OPTS": QUICK_KAFKA_START} if self.quick_kafka_start else {}),
        }

    def _proxy_env(self) -> dict[str, str]:
        if self.proxy_port is None:
            return {}
        return {
            "FT_PROXY_PORT": str(self.proxy_port),
            "FT_PROXY_REFERRAL": f"127.0.0.1:{shifted_port(18001)}",
            "FT_PROXY_TELEMEDICINE": f"127.0.0.1:{shifted_port(18002)}",
            "FT_PROXY_NOTIFIER": f"127.0.0.1:{shifted_port(18003)}",
        }

    def wipe(self) -> None:
        """Stops whatever an earlier run left on these ports and deletes its state: a run that
        needs its own stack (the benchmark, the chaos run) starts from nothing, not from the
        leftovers of a run that failed."""
        with contextlib.suppress(RuntimeError):
            self.run("bash", "deploy/local/stack.sh", "down")
        self.run("bash", "deploy/local/postgres.sh", "destroy")
        shutil.rmtree(self.state_dir, ignore_errors=True)

    def run(self, *args: str) -> str:
        result = subprocess.run(
            args, cwd=ROOT, env=self.env(), capture_output=True, text=True, timeout=600
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout


def as_operator() -> dict[str, str]:
    """Request headers of an operators' tool (deploy/demo/operator-keys.json)."""
    return {"Authorization": "Bearer demo-operator-console"}


def as_hospital(organization_id: str) -> dict[str, str]:
    """Request headers of a hospital system (the demo API keys of deploy/demo/api-keys.json)."""
    return {"Authorization": f"Bearer demo-{organization_id}"}


# The synchronizer token of the sessions as_person stands for.
PERSON_CSRF_TOKEN = "test-session-csrf-token"


def as_person(
    hospital: str, user: str, role: str = "doctor", language: str = "en"
) -> dict[str, str]:
    """Request headers of a signed-in person as the proxy passes them to telemedicine's or the
    notifier's pages: the web app's signed identity, and the session's synchronizer token that a
    page's form or script sends with a change."""
    identity = PersonIdentity(
        hospital_id=hospital,
        user_id=user,
        role=role,
        language=language,
        csrf_token=PERSON_CSRF_TOKEN,
    )
    return {
        IDENTITY_HEADER: IdentitySigner(secret=WEB_IDENTITY_SECRET).sign(identity),
        CSRF_HEADER: PERSON_CSRF_TOKEN,
    }


def referral_bundle(*, teleconsult: bool = True) -> tuple[dict[str, Any], str, str]:
    """The example referral with fresh ids: (bundle, referral id, message id)."""
    bundle = copy.deepcopy(json.loads(EXAMPLE_REFERRAL.read_text(encoding="utf-8")))
    old_id = "example-referral-0001"
    referral_id = f"ref-{uuid.uuid4()}"
    message_id = str(uuid.uuid4())
    text = json.dumps(bundle).replace(old_id, referral_id)
    bundle = json.loads(text)
    bundle["id"] = str(uuid.uuid4())
    _asked_now(bundle)
    header = bundle["entry"][0]
    header["resource"]["id"] = message_id
    header["fullUrl"] = f"urn:uuid:{message_id}"
    if not teleconsult:
        bundle["entry"] = [
            e
            for e in bundle["entry"]
            if not (
                e["resource"]["resourceType"] == "ServiceRequest" and e["resource"].get("category")
            )
        ]
    return bundle, referral_id, message_id


def _asked_now(bundle: dict[str, Any]) -> None:
    """Moves the example's clinical times so the referral is asked now (its accept-by deadline
    counts from Task.authoredOn), keeping LKW as long before the request as in the example."""
    task = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Task")
    asked = datetime.fromisoformat(task["authoredOn"])
    now = datetime.now(asked.tzinfo).replace(microsecond=0)
    shift = now - asked

    def moved(value: str) -> str:
        return (datetime.fromisoformat(value) + shift).isoformat()

    bundle["timestamp"] = moved(bundle["timestamp"])
    for entry in bundle["entry"]:
        resource = entry["resource"]
        for element in ("authoredOn", "effectiveDateTime"):
            if element in resource:
                resource[element] = moved(resource[element])


async def eventually(
    probe: Callable[[], Awaitable[T | None]],
    *,
    timeout: float = 60.0,  # noqa: ASYNC109 - a polling deadline, not a cancellation scope
    what: str = "condition",
) -> T:
    """Polls ``probe`` until it returns something truthy; fails with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


async def at_least(items: list[T], count: int = 1) -> list[T] | None:
    """For ``eventually``: the items once there are ``count`` of them."""
    return items if len(items) >= count else None


def hospital_message(
    event: str,
    *,
    sender: str,
    receiver: str,
    referral_id: str,
    status: str,
    status_reason: str | None = None,
    outcome: str | None = None,
) -> tuple[dict[str, Any], str]:
    """A lifecycle message as a hospital system sends it: (bundle, MessageHeader.id)."""
    from shared.fhir.codes import EventCode
    from shared.fhir.envelope import build_message
    from shared.fhir.models import Task

    task = Task.model_validate(
        {
            "resourceType": "Task",
            "id": referral_id,
            "status": status,
            "intent": "order",
            **({"statusReason": {"text": status_reason}} if status_reason else {}),
            **(
                {"output": [{"type": {"text": "outcome"}, "valueString": outcome}]}
                if outcome
                else {}
            ),
            "requester": {"reference": f"Organization/{sender}"},
        }
    )
    message = build_message(
        event=EventCode(event),
        sender=f"Organization/{sender}",
        destinations=[f"Organization/{receiver}"],
        focus=[task],
        source_endpoint=f"urn:test:{sender}",
    )
    return json.loads(message.to_json()), message.message_id


def task_update(key: str, description: str | None = None) -> FhirMessage:
    """A small message about one Task, as an outbox row's content in the relay's tests."""
    task = Task.model_validate(
        {
            "resourceType": "Task",
            "id": key,
            "status": "requested",
            "intent": "order",
            **({"description": description} if description is not None else {}),
        }
    )
    return build_message(
        event=EventCode.CLINICAL_UPDATE,
        sender="Organization/a",
        destinations=["Organization/b"],
        focus=[task],
        source_endpoint="urn:itest",
    )


async def records_on_topic(
    stack: TestStack, topic: Topic, count: int
) -> list[tuple[str, dict[str, bytes], bytes]]:
    """The first ``count`` records on ``topic`` (key, headers, value), read from its start by a
    consumer of no group."""
    consumer = AIOKafkaConsumer(
        topic.name,
        bootstrap_servers=stack.bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    got: list[tuple[str, dict[str, bytes], bytes]] = []
    try:

        async def enough() -> bool:
            for records in (await consumer.getmany(timeout_ms=300)).values():
                got.extend((r.key.decode(), dict(r.headers), r.value) for r in records)
            return len(got) >= count

        await eventually(enough, timeout=30, what=f"{count} records")
    finally:
        await consumer.stop()
    return got


def referral_app_refusing_after_the_parse() -> FastAPI:
    """The referral service's app with no database or Kafka behind it, whose caller is not the
    sender of any message: a hospital's message is read, parsed and validated, then refused
    (403), so a test sees a request's work up to the use case."""
    # Imported here: bench and e2e helpers import this module without wanting a service's app.
    from services.referral.bootstrap import create_app
    from services.referral.entrypoints.deps import get_context
    from shared.auth import _caller
    from shared.runtime import get_runtime
    from shared.settings import PlatformSettings

    class Runtime:
        settings = PlatformSettings()

    async def runtime() -> Runtime:
        return Runtime()

    async def no_context() -> None:
        return None  # the message is refused before the use case reads it

    async def another_hospital() -> str:
        return "another-hospital"  # not the message's sender: 403, before the database

    app = create_app()
    app.dependency_overrides[get_runtime] = runtime
    app.dependency_overrides[get_context] = no_context
    app.dependency_overrides[_caller] = another_hospital
    return app


def run_python(script: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Runs ``script`` in a fresh Python process of this environment, from the repository's
    root (a test that must see a process start from nothing: imports, the collector, a server)."""
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
