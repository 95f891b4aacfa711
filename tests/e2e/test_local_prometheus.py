"""The local stack's Prometheus (deploy/local/prometheus.sh, what `make up` starts without
Docker) scrapes the three services' GET /metrics and loads every alert rule."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.e2e.harness import SERVICE_PORTS, ServiceProcesses
from tests.support import ROOT, eventually, shifted_port

pytestmark = pytest.mark.e2e

PORT = shifted_port(19090)


@pytest.fixture
def prometheus(services: ServiceProcesses, tmp_path: Path) -> Iterator[str]:
    env = {
        "FT_STATE_DIR": str(tmp_path),
        "FT_PROMETHEUS_PORT": str(PORT),
        # Every target's first scrape within a second, not at its offset in 15 s.
        "FT_PROMETHEUS_SCRAPE_INTERVAL": "1s",
        **{f"FT_{name.upper()}_PORT": str(port) for name, port in SERVICE_PORTS.items()},
    }
    script = ["bash", str(ROOT / "deploy" / "local" / "prometheus.sh")]

    def run(command: str) -> None:
        done = subprocess.run(
            [*script, command],
            env={**services.stack.env(), **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr

    run("start")
    try:
        yield f"http://127.0.0.1:{PORT}"
    finally:
        run("stop")


async def test_the_local_prometheus_scrapes_every_service_and_loads_the_rules(
    prometheus: str,
) -> None:
    async with httpx.AsyncClient(base_url=prometheus, timeout=10) as client:

        async def all_up() -> list[dict[str, Any]] | None:
            targets = (await client.get("/api/v1/targets")).json()["data"]["activeTargets"]
            healthy = [t for t in targets if t["health"] == "up"]
            return targets if len(healthy) == len(SERVICE_PORTS) == len(targets) else None

        targets = await eventually(all_up, timeout=90, what="three healthy scrape targets")
        assert {t["labels"]["job"] for t in targets} == {
            f"fasttrack-{name}" for name in SERVICE_PORTS
        }
        groups = (await client.get("/api/v1/rules")).json()["data"]["groups"]
    loaded = {rule["name"] for group in groups for rule in group["rules"]}
    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    assert loaded == {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
