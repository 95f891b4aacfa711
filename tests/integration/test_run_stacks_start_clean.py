"""A run that brings its own stack (the benchmark, the chaos run) starts from nothing: not from
the database, partitions and outboxes a failed earlier run left behind, which it would re-read
and count as its own."""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.chaos.stack import ChaosStack
from tests.support import ROOT, TestStack, shifted_port

pytestmark = pytest.mark.integration


@pytest.fixture
def leftover_stack(tmp_path: Path) -> Iterator[TestStack]:
    """A stack whose PostgreSQL an earlier run left running, with a broker log beside it."""
    stack = TestStack(state_dir=tmp_path / "leftovers", postgres_port=shifted_port(25441))
    stack.run("bash", "deploy/local/postgres.sh", "start")
    (stack.state_dir / "kafka").mkdir(parents=True, exist_ok=True)
    (stack.state_dir / "kafka" / "leftover.log").write_text("records of an earlier run\n")
    yield stack
    # Also when the code under test failed to: no cluster outlives its test.
    with contextlib.suppress(RuntimeError):
        stack.run("bash", "deploy/local/postgres.sh", "destroy")


def _postgres_answers(stack: TestStack) -> bool:
    status = subprocess.run(
        ["bash", "deploy/local/postgres.sh", "status"],
        cwd=ROOT,
        env=stack.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    return status.returncode == 0


def test_wiping_a_stack_stops_its_leftover_cluster_and_deletes_its_state(
    leftover_stack: TestStack,
) -> None:
    assert _postgres_answers(leftover_stack)

    leftover_stack.wipe()

    assert not _postgres_answers(leftover_stack)
    assert not leftover_stack.state_dir.exists()


async def test_the_chaos_run_wipes_its_stack_before_starting_it(
    tmp_path: Path, leftover_stack: TestStack
) -> None:
    chaos = ChaosStack(tmp_path / "services")
    chaos.stack = dataclasses.replace(
        chaos.stack,
        state_dir=leftover_stack.state_dir,
        postgres_port=leftover_stack.postgres_port,
    )
    seen_at_start: list[bool] = []

    async def first_script(*args: str) -> None:
        # Where the stack would be started: look at what is left, then go no further.
        seen_at_start.append((chaos.stack.state_dir / "kafka" / "leftover.log").exists())
        raise RuntimeError("stopped before the stack starts")

    chaos.script = first_script  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="stopped before"):
        await chaos.up()

    assert seen_at_start == [False]
    assert not _postgres_answers(leftover_stack)
