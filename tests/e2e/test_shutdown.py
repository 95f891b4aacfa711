"""A service stops on SIGTERM even while a person's page holds its live stream open: the stream
ends itself when the stop begins, the lifespan's shutdown runs and the process exits. Before,
uvicorn waited for the stream to end, which it never does (a heartbeat every 15 s): every restart
or rolling update of the referral service with a clinician's page open ended in SIGKILL, its
consumers' offsets uncommitted. Then the stream was cut after the shutdown grace
(``FT_SHUTDOWN_GRACE_S``, still the bound for any other request), and uvicorn logged it as an
ERROR with a traceback at every restart: noise that hides real errors from operators."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.referral.accounts import DEVELOPMENT_PASSWORD
from tests.e2e.harness import ServiceProcesses
from tests.support import TestStack, as_hospital, eventually, shifted_port
from tests.web_app import signed_in

pytestmark = pytest.mark.e2e

# Ports of their own, so the session's services are not disturbed.
OWN_PORTS = {
    "referral": shifted_port(18064),
    "telemedicine": shifted_port(18065),
    "notifier": shifted_port(18066),
}
# The bound uvicorn gives open requests after SIGTERM. The stream ends itself at once when the
# stop begins; 2 s was exceeded once with the machine at a load average of 30 (a cut stream
# fails the test either way: a longer grace costs only a failing run's time).
GRACE_S = 10


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
            # The stream ends as a finished response does (its heartbeat, every 15 s, would
            # keep it open for ever): read to its end, not cut off (httpx would raise).
            async for _ in lines:
                pass

    await _stopped_cleanly(own_referral, "referral")


async def test_a_notifier_with_an_open_live_screen_stops_on_sigterm(
    own_referral: ServiceProcesses,
) -> None:
    own_referral.spawn("notifier", FT_SHUTDOWN_GRACE_S=str(GRACE_S))
    await own_referral.wait_healthy("notifier")
    base = f"http://127.0.0.1:{OWN_PORTS['notifier']}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        issued = await client.post("/live/tickets", headers=as_hospital("trang-hospital"))
        ticket = issued.json()["ticket"]
        async with client.stream("GET", "/live/events", params={"ticket": ticket}) as stream:
            assert stream.status_code == 200
            lines = stream.aiter_lines()
            assert await anext(lines) == ": connected"

            own_referral.processes["notifier"].send_signal(signal.SIGTERM)
            async for _ in lines:
                pass

    await _stopped_cleanly(own_referral, "notifier")


async def _stopped_cleanly(processes: ServiceProcesses, name: str) -> None:
    process = processes.processes[name]

    async def exited() -> bool:
        return process.poll() is not None

    await eventually(exited, timeout=GRACE_S + 10, what="the service's exit")
    # Ended by its own shutdown, not killed: uvicorn re-raises the SIGTERM it caught once its
    # shutdown is done, so the exit status is the signal's.
    assert process.returncode == -signal.SIGTERM
    log = processes.log_file(name).read_text(encoding="utf-8")
    assert "Application shutdown complete" in log
    # The open stream was not cut at the end of the grace, and nothing else went wrong.
    assert "timeout graceful shutdown exceeded" not in log
    errors = [line for line in log.splitlines() if '"level": "ERROR"' in line]
    assert errors == [], errors
