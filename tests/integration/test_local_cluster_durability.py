"""The local PostgreSQL cluster (make up, the benchmark) is durable unless a caller opts out, as
only the test suite's throwaway cluster does: an acknowledged commit survives a power cut."""

from __future__ import annotations

import subprocess

import pytest

from tests.support import ROOT, local_cluster, shifted_port

pytestmark = pytest.mark.integration

PORT = shifted_port(25440)
DURABILITY_SETTINGS = ("fsync", "synchronous_commit", "full_page_writes")


def _settings() -> dict[str, str]:
    query = " UNION ALL ".join(
        f"SELECT '{name}', current_setting('{name}')" for name in DURABILITY_SETTINGS
    )
    output = subprocess.run(
        [
            *("psql", "-X", "-q", "-tA", "-F", "=", "-h", "127.0.0.1", "-p", str(PORT)),
            *("-U", "fasttrack", "-d", "postgres", "-c", query),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    return dict(line.split("=", 1) for line in output.split())


def test_the_cluster_is_durable_by_default_and_fast_only_on_request() -> None:
    # A fixed folder: as root the cluster may live under /var/tmp, one folder per state folder.
    state = ROOT / ".local-stack" / "durability-test"
    try:
        local_cluster(state, "start", port=PORT)
        assert _settings() == dict.fromkeys(DURABILITY_SETTINGS, "on")
        local_cluster(state, "stop", port=PORT)
        local_cluster(state, "start", port=PORT, FT_PG_DURABILITY="off")
        assert _settings() == dict.fromkeys(DURABILITY_SETTINGS, "off")
    finally:
        local_cluster(state, "stop", port=PORT)
