"""The benchmark's listeners sit below the kernel's ephemeral ports, at every offset a developer
shifts them by, and apart from the test suite's.

Linux gives the local end of an outgoing connection a port from 32768 up (its default
``ip_local_port_range``): a service of the benchmark listening there could find its port taken
by a connection to Kafka or PostgreSQL. A run failed so (the telemedicine service could not
bind 40002 at offset 2000, when the benchmark's ports were 35432-39411)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import health_under_input
from bench.e2e_latency import BENCH_PORTS, BENCH_WEBHOOK_PORT, bench_stack
from tests.e2e.harness import SERVICE_PORTS, WEBHOOK_PORT
from tests.support import PORT_OFFSET, TestStack

# The offsets the README and the developers' runs use; the suite's own halves run at the offset
# and the offset + 1000 (deploy/local/test.sh).
OFFSETS = (0, 300, 600, 1000, 2000, 3000, 4000)
SUITE_HALVES = (0, 1000)
LINUX_EPHEMERAL_START = 32768


def _unshifted(ports: set[int], stack: TestStack) -> set[int]:
    """``ports`` and the stack's listeners, at offset 0."""
    listeners = {
        stack.kafka_port,
        stack.kafka_controller_port,
        stack.kafka_hospital_port,
        stack.postgres_port,
        stack.zipkin_port,
    }
    return {port - PORT_OFFSET for port in ports | listeners}


def _bench_base_ports() -> set[int]:
    ports = {*BENCH_PORTS.values(), BENCH_WEBHOOK_PORT, health_under_input.PORT}
    return _unshifted(ports, bench_stack())


def _suite_base_ports() -> set[int]:
    return _unshifted({*SERVICE_PORTS.values(), WEBHOOK_PORT}, TestStack(state_dir=Path("unused")))


def _ephemeral_start() -> int:
    """This machine's first ephemeral port (Linux's default where it cannot be read)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return LINUX_EPHEMERAL_START


@pytest.mark.parametrize("offset", OFFSETS)
def test_the_benchmarks_ports_are_below_the_ephemeral_range(offset: int) -> None:
    first_ephemeral = min(_ephemeral_start(), LINUX_EPHEMERAL_START)
    shifted = (port + offset for port in _bench_base_ports())
    assert sorted(port for port in shifted if port >= first_ephemeral) == []


@pytest.mark.parametrize("offset", OFFSETS)
def test_the_benchmarks_ports_are_apart_from_the_suites(offset: int) -> None:
    bench = {port + offset for port in _bench_base_ports()}
    for half in SUITE_HALVES:
        suite = {port + half for port in _suite_base_ports()}
        assert bench.isdisjoint(suite), sorted(bench & suite)
