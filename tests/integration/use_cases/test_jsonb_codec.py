"""jsonb parameters and columns are written and read by orjson (shared/db/pool.py), not by the
standard library's json: a referral's intake writes its routing advice, timeline detail and
milestones as jsonb, and every page that shows a referral reads them back. The server parses
what it is sent, so what it stores and gives back is the same whichever encoder wrote it.

Counted: the JSON documents the standard library's ``json.dumps`` and ``json.loads`` code for
the services' pool (a pool opened after they are replaced by counting ones, so its connections'
jsonb codec would call those) during an intake and the reading of its referral and timeline."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from services.referral.adapters import fhir_mapping, repository, timeline_repository
from services.referral.service.directory_cache import DirectoryCache
from services.referral.service.handlers import apply_hospital_message
from shared.db.pool import Connection, create_pool
from tests.integration.use_cases.support import CONTEXT, referral_request
from tests.use_case_database import rolled_back


def _counting(function: Callable[..., Any], name: str, coded: list[str]) -> Callable[..., Any]:
    """``function``, noting ``name`` when asyncpg's codec calls it: asyncpg's codecs are
    compiled, so the nearest Python frame is asyncpg's own (sending) or the event loop's
    (receiving), where the project's own calls have their module's frame."""

    def counted(*args: Any, **kwargs: Any) -> Any:
        caller = sys._getframe(1).f_code.co_filename
        if "/asyncpg/" in caller or "/asyncio/" in caller:
            coded.append(name)
        return function(*args, **kwargs)

    return counted


async def test_a_referrals_jsonb_is_coded_by_orjson(
    connection: Connection, postgres: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = await connection.fetchval("SELECT current_schema()")
    coded: list[str] = []
    monkeypatch.setattr(json, "dumps", _counting(json.dumps, "dumps", coded))
    monkeypatch.setattr(json, "loads", _counting(json.loads, "loads", coded))
    pool = await create_pool(postgres, schema=schema, max_size=1)
    context = dataclasses.replace(CONTEXT, directory=DirectoryCache())
    request = referral_request()
    message = fhir_mapping.referral_requested_message(
        request, source_endpoint=context.source_endpoint
    )
    try:
        async with rolled_back(pool) as counted_connection:
            referral = await apply_hospital_message(
                counted_connection, message, context=context, now=datetime.now(UTC)
            )
            stored = await repository.get_referral(
                counted_connection, referral_id=request.referral_id
            )
            timeline = await timeline_repository.timeline(
                counted_connection, referral_id=request.referral_id
            )
    finally:
        await pool.close()

    # Was 6: three jsonb parameters of the intake's statement written (the routing advice,
    # the timeline step's detail, the milestones), three jsonb values read (the routing advice
    # by the INSERT's RETURNING and by the reading, the timeline step's detail).
    assert coded == [], coded
    assert stored is not None
    assert stored.routing is not None
    assert stored.routing == referral.routing  # type: ignore[union-attr]
    assert stored.routing["reasons"]
    assert timeline[0].detail["requester"] == request.requester_org
