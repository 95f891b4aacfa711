"""A service stops on SIGTERM even while a person's page holds its live stream open: the stream
is ended after the shutdown grace (``FT_SHUTDOWN_GRACE_S``), the lifespan's shutdown runs and
the process exits. Before, uvicorn waited for the stream to end, which it never does
(a heartbeat every 15 s): every restart or rolling update of the referral service with a
clinician's page open ended in SIGKILL, its consumers' offsets uncommitted."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.referral.accounts import DEVELOPMENT_PASSWORD
from tests.e2e.harness import ServiceProcesses
from tests.support import TestStack, eventually, shifted_port
from tests.web_app import signed_in

pytestmark = pytest.mark.e2e

# Ports of their own, so the session's services are not disturbed.
OWN_PORTS = {"referral": shifted_port(18064), "telemedicine": shifted_port(18065)}
GRACE_S = 2


@pytest.fixture
def own_referral(stack: TestStack, tmp_path: Path) -> Iterator[ServiceProcesses]:
    processes = ServiceProcesses(stack, tmp_path, ports=OWN_PORTS)
    yield processes
    processes.stop_all()


async def test_a_referral_service_with_an_open_live_page_stops_on_sigterm(
    own_referral: ServiceProcesses,
) -> None:
    own_referral.spawn("referral", FT_SHUTDOWN_GRACE_S=str(GRACE_S))
    await own_referral.wait_healthy("referral")
    process = own_referral.processes["referral"]
    base = f"http://127.0.0.1:{OWN_PORTS['referral']}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        session = await signed_in(client, "doctor.trang", DEVELOPMENT_PASSWORD)
        async with client.stream("GET", "/app/events", headers=session) as stream:
            assert stream.status_code == 200
            lines = stream.aiter_lines()
            assert await anext(lines) == ": connected"

            process.send_signal(signal.SIGTERM)

            async def exited() -> bool:
                return process.poll() is not None

            # The stream's own heartbeat (15 s) would keep it open for ever; the grace ends it.
            await eventually(exited, timeout=GRACE_S + 10, what="the service's exit")
    # Ended by its own shutdown, not killed: uvicorn re-raises the SIGTERM it caught once its
    # shutdown is done, so the exit status is the signal's.
    assert process.returncode == -signal.SIGTERM
    log = own_referral.log_file("referral").read_text(encoding="utf-8")
    assert "Application shutdown complete" in log
