"""The chaos run's own stack and the faults done to it.

Its Kafka, PostgreSQL, services and webhook listen on the test suite's ports + 50 (and
FT_TEST_PORT_OFFSET), in .local-stack/chaos, so a run never touches the suite's session stack:
it stops the broker and PostgreSQL. Its PostgreSQL is durable (fsync and synchronous_commit on):
a commit that was answered must survive an immediate stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

from tests.e2e.harness import ServiceProcesses, WebhookReceiver, serve_webhook
from tests.support import ROOT, TestStack, shifted_port

CHAOS_SHIFT = 50
SERVICES = ("referral", "telemedicine", "notifier")
# A service that has not answered /health this long after a fault counts as not recovered.
RECOVERY_DEADLINE_S = 180.0


def chaos_port(suite_port: int) -> int:
    return shifted_port(suite_port + CHAOS_SHIFT)


SERVICE_PORTS = {
    "referral": chaos_port(18001),
    "telemedicine": chaos_port(18002),
    "notifier": chaos_port(18003),
}
WEBHOOK_PORT = chaos_port(18099)


@dataclass(frozen=True)
class ChaosRunStack(TestStack):
    """The suite's stack description on other ports (durable: see ``chaos_stack``)."""

    def env(self) -> dict[str, str]:
        # A long run outlasts the accept-by deadline: no re-routing to muddle the audit.
        return {**super().env(), "FT_REFERRAL_ACCEPT_WITHIN_MIN": "1440"}


def chaos_stack(*, quick_kafka_start: bool = False) -> ChaosRunStack:
    return ChaosRunStack(
        state_dir=ROOT / ".local-stack" / "chaos",
        kafka_port=chaos_port(29092),
        kafka_controller_port=chaos_port(29093),
        kafka_hospital_port=chaos_port(29094),
        postgres_port=chaos_port(25432),
        durable=True,
        quick_kafka_start=quick_kafka_start,
    )


@dataclass
class Recovery:
    """One fault and how long the system took to come back from it."""

    fault: str  # "kill referral", "restart broker", "stop postgres -m immediate"
    started_at: float  # monotonic, when the fault was done
    outage_s: float  # until the killed part was started again and ready
    healthy_s: float  # until every service answered /health 200 again (from started_at)


class ChaosStack:
    """Starts everything; does one fault at a time and measures the way back."""

    def __init__(self, work_dir: Path, *, quick_kafka_start: bool = False) -> None:
        self.stack = chaos_stack(quick_kafka_start=quick_kafka_start)
        self.webhook = WebhookReceiver()
        work_dir.mkdir(parents=True, exist_ok=True)
        self.processes = ServiceProcesses(
            self.stack, work_dir, ports=SERVICE_PORTS, webhook_port=WEBHOOK_PORT
        )
        self._webhook_server: tuple[uvicorn.Server, asyncio.Task[None]] | None = None
        # Services that exited on their own after a fault and had to be started again.
        self.exits_after_fault = 0

    @property
    def referral_url(self) -> str:
        return f"http://127.0.0.1:{SERVICE_PORTS['referral']}"

    async def script(self, *args: str) -> None:
        """Runs a deploy script without blocking the event loop (the sender keeps sending)."""
        process = await asyncio.create_subprocess_exec(
            *args,
            cwd=ROOT,
            env=self.stack.env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{output.decode(errors='replace')}")

    async def up(self) -> None:
        # A run after a failed one must not re-read its unfinished outboxes and partitions.
        await asyncio.to_thread(self.stack.wipe)
        await self.script("bash", "deploy/local/stack.sh", "up")
        # Migrations, topics and the demo directory, in one process (tests/stack_setup.py).
        await self.script(self.stack.env()["FT_PYTHON"], "-m", "tests.stack_setup")
        server, task = await serve_webhook(self.webhook, WEBHOOK_PORT)
        self._webhook_server = (server, task)
        # Together: each start waits for its /health, a third of the time in a row (and longer
        # than one alone may: three imports share the cores).
        await asyncio.gather(*(self.processes.start(name, timeout=180) for name in SERVICES))

    async def down(self) -> None:
        self.processes.stop_all()
        if self._webhook_server is not None:
            server, task = self._webhook_server
            server.should_exit = True
            with contextlib.suppress(Exception):
                await task
        with contextlib.suppress(RuntimeError):
            await self.script("bash", "deploy/local/stack.sh", "down")

    async def all_healthy(self, *names: str) -> None:
        """Waits until every service (or those named) answers /health 200, starting again one
        that exited."""
        deadline = time.monotonic() + RECOVERY_DEADLINE_S
        async with httpx.AsyncClient() as client:
            for name in names or SERVICES:
                url = f"http://127.0.0.1:{SERVICE_PORTS[name]}/health"
                while True:
                    if self.processes.processes[name].poll() is not None:
                        # It exited (e.g. it could not reach Kafka at start): a supervisor
                        # would start it again; so do we, and the report counts it.
                        self.exits_after_fault += 1
                        self.processes.processes.pop(name)
                        await self.processes.start(name)
                    with contextlib.suppress(httpx.HTTPError):
                        if (await client.get(url, timeout=2)).status_code == 200:
                            break
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{name} not healthy {RECOVERY_DEADLINE_S:.0f} s on")
                    await asyncio.sleep(0.1)

    async def kill_service(self, name: str) -> Recovery:
        """SIGKILL (no shutdown hooks, no flush, no commit) and an immediate restart."""
        started = time.monotonic()
        self.processes.kill(name)
        # Returns at its first /health 200; on a busy machine it may take longer than start()
        # waits (or exit): all_healthy() then waits on (or starts it again) up to its deadline.
        with contextlib.suppress(RuntimeError):
            await self.processes.start(name)
        await self.all_healthy(name)
        back = time.monotonic() - started
        await self.all_healthy()
        return Recovery(f"kill {name}", started, back, time.monotonic() - started)

    async def restart_broker(self) -> Recovery:
        return await self._outage(
            "restart broker",
            ("deploy/local/kafka.sh", "stop"),
            ("deploy/local/kafka.sh", "start"),
        )

    async def stop_postgres_immediately(self) -> Recovery:
        """``pg_ctl stop -m immediate``: what a power cut or an OOM kill does; then a start."""
        return await self._outage(
            "stop postgres -m immediate",
            ("deploy/local/postgres.sh", "crash"),
            ("deploy/local/postgres.sh", "start"),
        )

    async def _outage(self, fault: str, *scripts: tuple[str, str]) -> Recovery:
        """Runs the deploy scripts that take a part down and bring it back; the services stay."""
        started = time.monotonic()
        for script, command in scripts:
            await self.script("bash", script, command)
        back = time.monotonic() - started
        await self.all_healthy()
        return Recovery(fault, started, back, time.monotonic() - started)
