"""Session fixtures: the real Kafka broker and PostgreSQL, provisioned by the deploy scripts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from tests.support import ROOT, TestStack


@pytest.fixture(scope="session")
def stack() -> Iterator[TestStack]:
    """Starts (if needed) the test stack, migrates, creates topics, loads the demo directory."""
    test_stack = TestStack(state_dir=ROOT / ".local-stack" / "test")
    test_stack.run("bash", "deploy/local/stack.sh", "up")
    python = test_stack.env()["FT_PYTHON"]
    test_stack.run(python, "-m", "shared.admin", "migrate")
    test_stack.run(python, "-m", "shared.admin", "create-topics")
    test_stack.run(python, "-m", "services.referral.load_directory", "deploy/demo/directory.json")
    yield test_stack


@pytest.fixture(scope="session")
async def database(stack: TestStack) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=4)
    assert pool is not None
    yield pool
    await pool.close()
