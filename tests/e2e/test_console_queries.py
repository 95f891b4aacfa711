"""The operators' console's reads on the real stack: a referral's hops as the referral service
records them (intake, published to Kafka, the first page the notifier reports back, the hub's
answer), its trace id, the stuck rule, and the hospital connectors' last message."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from services.referral.adapters import console_queries
from services.referral.adapters.operations_gauges import hospital_connectors
from services.referral.domain.console import Hop, ReferralProgress, flow_of
from services.referral.service.console_view import console_board
from shared.db.pool import create_pool
from tests.support import TestStack, as_hospital, eventually, hospital_message, referral_bundle

pytestmark = pytest.mark.e2e

SPOKE, HUB = "sikao-hospital", "trang-hospital"
FHIR_JSON = {"Content-Type": "application/fhir+json"}


@pytest.fixture
async def referral_db(stack: TestStack) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(stack.database_url, schema="referral", max_size=2)
    yield pool
    await pool.close()


async def _refer(api: httpx.AsyncClient, *, teleconsult: bool) -> str:
    bundle, referral_id, _ = referral_bundle(teleconsult=teleconsult)
    response = await api.post(
        "/fhir/$process-message", content=json.dumps(bundle), headers=FHIR_JSON
    )
    assert response.status_code == 200, response.text
    return referral_id


async def _progress(pool: asyncpg.Pool, referral_id: str) -> ReferralProgress:
    async with pool.acquire() as connection:
        (progress,) = await console_queries.referral_progress(connection, referral_id=referral_id)
    return progress


async def test_a_referrals_hops_come_from_its_row_its_outbox_and_what_the_others_report(
    referral_api: httpx.AsyncClient, referral_db: asyncpg.Pool
) -> None:
    referral_id = await _refer(referral_api, teleconsult=True)

    async def paged_and_consulted() -> ReferralProgress | None:
        progress = await _progress(referral_db, referral_id)
        flow = flow_of(progress, now=datetime.now(UTC), stuck_after=timedelta(hours=1))
        times = {hop.hop: hop.at for hop in flow.hops}
        if times[Hop.PUBLISHED] and times[Hop.CONSULT_OPENED] and times[Hop.FIRST_PAGE_SENT]:
            return progress
        return None

    progress = await eventually(paged_and_consulted, what="the consult and the first page")
    assert progress.requester == SPOKE
    assert progress.owner == HUB
    # The trace the intake started (the outbox row's stored traceparent): 32 hex digits.
    assert progress.trace_id is not None
    assert len(progress.trace_id) == 32
    int(progress.trace_id, 16)

    flow = flow_of(progress, now=datetime.now(UTC), stuck_after=timedelta(seconds=0))
    times = {hop.hop: hop for hop in flow.hops}
    assert times[Hop.PUBLISHED].at >= progress.created_at  # type: ignore[operator]
    assert times[Hop.PUBLISHED].latency is not None
    # Nobody of the hub has answered: with no patience at all it is stuck, waiting for that.
    assert flow.stuck
    assert flow.waiting_for is Hop.ANSWERED
    assert flow.stopped_at not in (Hop.INTAKE, Hop.PUBLISHED)

    bundle, _ = hospital_message(
        "referral-accepted", sender=HUB, receiver=SPOKE, referral_id=referral_id, status="accepted"
    )
    answered = await referral_api.post(
        "/fhir/$process-message", json=bundle, headers={**FHIR_JSON, **as_hospital(HUB)}
    )
    assert answered.status_code == 200, answered.text
    flow = flow_of(
        await _progress(referral_db, referral_id),
        now=datetime.now(UTC),
        stuck_after=timedelta(seconds=0),
    )
    assert {hop.hop for hop in flow.hops if hop.at} >= {Hop.ANSWERED}
    assert not flow.stuck
    assert flow.waiting_for is None


async def test_the_stuck_list_and_the_board_find_a_referral_by_its_id_or_its_hospital(
    referral_api: httpx.AsyncClient, referral_db: asyncpg.Pool
) -> None:
    referral_id = await _refer(referral_api, teleconsult=False)

    async def stuck_for_its_hospital() -> bool | None:
        async with referral_db.acquire() as connection:
            board = await console_board(
                connection, now=datetime.now(UTC), stuck_after=timedelta(0), hospital=HUB
            )
        return True if referral_id in {f.referral_id for f in board.stuck} else None

    await eventually(stuck_for_its_hospital, what="the referral in the stuck list")
    async with referral_db.acquire() as connection:
        by_id = await console_board(
            connection,
            now=datetime.now(UTC),
            stuck_after=timedelta(hours=1),
            referral_id=referral_id,
        )
        elsewhere = await console_board(
            connection,
            now=datetime.now(UTC),
            stuck_after=timedelta(0),
            hospital="no-such-hospital",
        )
    assert [f.referral_id for f in by_id.flows] == [referral_id]
    assert by_id.stuck == []  # an hour of patience: not stuck yet
    assert elsewhere.flows == []
    assert elsewhere.stuck == []


async def test_a_hospital_connector_shows_its_last_message_and_how_it_came(
    referral_api: httpx.AsyncClient, referral_db: asyncpg.Pool
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    await _refer(referral_api, teleconsult=False)
    async with referral_db.acquire() as connection:
        connectors = {c.hospital: c for c in await hospital_connectors(connection)}
    sikao = connectors[SPOKE]
    assert sikao.last_message >= before
    assert sikao.last_over_rest
    assert sikao.messages_7d >= 1
