"""The outbox's gauges on the real database: an unpublished row shows as backlog and its age
grows while no relay publishes it (the broker away, the relay stuck); published, both are 0."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from prometheus_client import CollectorRegistry, generate_latest

from shared.db.pool import create_pool
from shared.metrics.outbox import OutboxBacklog
from tests.metrics_scrape import parse, total
from tests.support import TestStack

pytestmark = pytest.mark.integration

BACKLOG = "fasttrack_outbox_backlog"
AGE = "fasttrack_outbox_oldest_unpublished_age_seconds"


@pytest.fixture
async def pool(stack: TestStack, scratch_schema: str) -> AsyncIterator[asyncpg.Pool]:
    scratch_pool = await create_pool(stack.database_url, schema=scratch_schema, max_size=2)
    yield scratch_pool
    await scratch_pool.close()


async def test_an_unpublished_outbox_row_shows_its_age_until_it_is_published(
    pool: asyncpg.Pool,
) -> None:
    registry = CollectorRegistry()
    provider = MeterProvider(
        metric_readers=[PrometheusMetricReader(scope_info_enabled=False, registry=registry)]
    )
    gauges = OutboxBacklog(pool=pool, meter=provider.get_meter("test"), service="itest")

    async def read() -> tuple[float | None, float | None]:
        await gauges.sample()
        samples = parse(generate_latest(registry).decode())
        return total(samples, BACKLOG, service="itest"), total(samples, AGE, service="itest")

    assert await read() == (0, 0)
    # A row no relay took, written 45 s ago (past the 30 s the alert rule allows).
    await pool.execute(
        """
        INSERT INTO outbox (message_id, topic, message_key, event_code, sequence, payload,
                            created_at)
        VALUES ('m-1', 'fasttrack.referral.events.v1', 'r-1', 'referral-requested', 1, '\\x7b7d',
                now() - interval '45 seconds')
        """
    )
    backlog, age = await read()
    assert backlog == 1
    assert age is not None
    assert 45 <= age < 120
    await pool.execute("UPDATE outbox SET published_at = now()")
    assert await read() == (0, 0)
    provider.shutdown()
