"""Session fixtures: the real Kafka broker and PostgreSQL, provisioned by the deploy scripts; and
for the end-to-end and browser tests, the three services as processes with the outside servers
they call (a hospital webhook, an SMS gateway, the LINE platform) on loopback."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.e2e.harness import (
    LINE_API_PORT,
    LINE_TOKEN,
    SERVICE_PORTS,
    SMS_API_KEY,
    SMS_CALLBACK_TOKEN,
    SMS_GATEWAY_PORT,
    ServiceProcesses,
    WebhookReceiver,
    serve_webhook,
)
from tests.fakes.line_server import FakeLineState, line_api
from tests.fakes.server import serve_app, stop_app
from tests.fakes.sms_gateway import FakeSmsGateway, create_generic_sms_app
from tests.fhir_validator import FhirValidator
from tests.support import SESSION_STATE_DIR, TestStack, as_hospital, shifted_port

# Apps built in the test process export spans nowhere: the development default is the Zipkin of
# someone's `make up`. The services the end-to-end tests start get the test stack's (TestStack).
os.environ.setdefault("FT_ZIPKIN_ENDPOINT", "")


@pytest.fixture(scope="session")
def stack() -> TestStack:
    """Starts (if needed) the test stack, migrates, creates topics, loads the demo directory."""
    # With the reverse proxy of people's pages (the one origin the browser tests open).
    test_stack = TestStack(
        state_dir=SESSION_STATE_DIR,
        proxy_port=shifted_port(18080),
        quick_kafka_start=True,
    )
    test_stack.run("bash", "deploy/local/stack.sh", "up")
    # Migrations, topics, the demo directory and the development people (services/referral/
    # accounts.py) the browser tests sign in as, in one process (tests/stack_setup.py).
    test_stack.run(test_stack.env()["FT_PYTHON"], "-m", "tests.stack_setup", "--people")
    return test_stack


@pytest.fixture(scope="session")
def fhir_validator() -> Iterator[FhirValidator]:
    """HAPI FHIR's R4B instance validator, one JVM for the whole session."""
    validator = FhirValidator()
    yield validator
    validator.close()


@pytest.fixture(scope="session")
async def database(stack: TestStack) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=4)
    assert pool is not None
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
async def webhook() -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    server, task = await serve_webhook(receiver)
    yield receiver
    for release in receiver.hang.values():
        release.set()
    server.should_exit = True
    await task


@pytest.fixture(scope="session")
async def sms_gateway() -> AsyncIterator[FakeSmsGateway]:
    """An SMS gateway speaking the generic contract, on loopback."""
    gateway = FakeSmsGateway()
    server, task = await serve_app(
        create_generic_sms_app(gateway, api_key=SMS_API_KEY, callback_token=SMS_CALLBACK_TOKEN),
        SMS_GATEWAY_PORT,
    )
    yield gateway
    server.should_exit = True
    await task


@pytest.fixture(scope="session")
async def line_platform() -> AsyncIterator[FakeLineState]:
    """The LINE Messaging API as LINE documents it, on loopback."""
    state = FakeLineState(channel_access_token=LINE_TOKEN)
    server, task = await serve_app(line_api(state), LINE_API_PORT)
    yield state
    await stop_app(server, task)


@pytest.fixture(scope="session")
async def services(
    stack: TestStack,
    webhook: WebhookReceiver,
    sms_gateway: FakeSmsGateway,
    line_platform: FakeLineState,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[ServiceProcesses]:
    processes = ServiceProcesses(stack, Path(tmp_path_factory.mktemp("services")))
    # Together, as the chaos run starts them: each start waits for its own readiness (longer
    # than one alone: three imports share the cores).
    await asyncio.gather(*(processes.start(name, timeout=180) for name in SERVICE_PORTS))
    yield processes
    processes.stop_all()


@pytest.fixture(scope="session")
async def referral_api(services: ServiceProcesses) -> AsyncIterator[httpx.AsyncClient]:
    """The referral service, called as the example's referring hospital (Sikao)."""
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{SERVICE_PORTS['referral']}",
        timeout=30,
        headers=as_hospital("sikao-hospital"),
    ) as client:
        yield client
