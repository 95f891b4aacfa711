"""A service outlives its dependencies: it starts while PostgreSQL and Kafka are away and becomes
ready when they come; while PostgreSQL is down it answers 503 with Retry-After, never a 500."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import ServiceProcesses
from tests.fakes.tcp_proxy import TcpProxy
from tests.support import TestStack, as_hospital, eventually, referral_bundle, shifted_port

pytestmark = pytest.mark.e2e

FHIR_JSON = {"Content-Type": "application/fhir+json"}
# Ports of their own, so the session's services are not disturbed.
OWN_PORTS = {"referral": shifted_port(18063), "telemedicine": shifted_port(18062)}
KAFKA_PROXY_PORT, POSTGRES_PROXY_PORT = shifted_port(18060), shifted_port(18061)


@pytest.fixture
def own_services(stack: TestStack, tmp_path: Path) -> Iterator[ServiceProcesses]:
    processes = ServiceProcesses(stack, tmp_path, ports=OWN_PORTS)
    yield processes
    processes.stop_all()


@pytest.fixture
async def proxies(stack: TestStack) -> AsyncIterator[tuple[TcpProxy, TcpProxy]]:
    kafka = TcpProxy(listen_port=KAFKA_PROXY_PORT, target_port=stack.kafka_port)
    postgres = TcpProxy(listen_port=POSTGRES_PROXY_PORT, target_port=stack.postgres_port)
    yield kafka, postgres
    await kafka.close()
    await postgres.close()


async def _get(url: str) -> httpx.Response | None:
    async with httpx.AsyncClient() as client:
        try:
            return await client.get(url, timeout=3)
        except httpx.HTTPError:
            return None


async def test_a_service_started_while_kafka_and_postgresql_are_away_waits_for_them(
    own_services: ServiceProcesses, proxies: tuple[TcpProxy, TcpProxy]
) -> None:
    kafka, postgres = proxies
    base = f"http://127.0.0.1:{OWN_PORTS['telemedicine']}"
    own_services.spawn(
        "telemedicine",
        FT_KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{KAFKA_PROXY_PORT}",
        FT_DATABASE_URL=f"postgresql://fasttrack@127.0.0.1:{POSTGRES_PROXY_PORT}/fasttrack",
    )
    process = own_services.processes["telemedicine"]

    async def answers_live() -> httpx.Response | None:
        response = await _get(f"{base}/health/live")
        return response if response is not None and response.status_code == 200 else None

    await eventually(answers_live, timeout=60, what="/health/live while both are away")
    await asyncio.sleep(3)  # long enough for a start that gives up to have exited
    assert process.poll() is None, own_services.log_file("telemedicine").read_text()[-3000:]
    waiting = await _get(f"{base}/health/ready")
    assert waiting is not None
    assert waiting.status_code == 503
    assert waiting.json()["status"] == "starting"
    assert (await _get(f"{base}/health")).status_code == 503  # type: ignore[union-attr]

    await kafka.open()
    await postgres.open()

    async def ready() -> dict[str, object] | None:
        response = await _get(f"{base}/health/ready")
        return response.json() if response is not None and response.status_code == 200 else None

    report = await eventually(ready, timeout=60, what="ready once Kafka and PostgreSQL are back")
    assert report["database"] == "ok"
    assert report["kafka"] == "ok"
    assert process.poll() is None


async def test_while_postgresql_is_down_a_post_answers_503_with_retry_after_then_succeeds(
    stack: TestStack, own_services: ServiceProcesses
) -> None:
    await own_services.start("referral")
    base = f"http://127.0.0.1:{OWN_PORTS['referral']}"
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    async with httpx.AsyncClient(
        base_url=base, timeout=30, headers=as_hospital("sikao-hospital")
    ) as api:
        stack.run("bash", "deploy/local/postgres.sh", "crash")
        try:
            refused = await api.post("/fhir/$process-message", json=bundle, headers=FHIR_JSON)
            assert refused.status_code == 503, refused.text
            assert int(refused.headers["Retry-After"]) > 0
            outcome = refused.json()
            assert outcome["resourceType"] == "OperationOutcome"
            assert outcome["issue"][0]["code"] == "transient"
            assert (await api.get("/health/ready")).status_code == 503
            assert (await api.get("/health/live")).status_code == 200
        finally:
            stack.run("bash", "deploy/local/postgres.sh", "start")

        async def accepted() -> httpx.Response | None:
            response = await api.post("/fhir/$process-message", json=bundle, headers=FHIR_JSON)
            return response if response.status_code == 200 else None

        await eventually(accepted, timeout=60, what="the same POST accepted after the restart")
        assert (await api.get(f"/referrals/{referral_id}")).status_code == 200
    log = own_services.log_file("referral").read_text()
    assert "unhandled error" not in log
