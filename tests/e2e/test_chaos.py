"""The short chaos run (bench/chaos): referrals offered over REST while each service is SIGKILLed
and restarted, the broker restarted and PostgreSQL stopped immediately; every referral answered
200 has each of its effects exactly once, nothing is left in an outbox or behind on a partition.

It runs its own stack (.local-stack/chaos, the suite's ports + 50) with a durable PostgreSQL,
so it never stops the session stack the other tests use. The long form: `make chaos`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.chaos.run import SHORT, run, summary

pytestmark = pytest.mark.e2e


async def test_no_referral_effect_is_lost_or_doubled_through_kills_and_outages(
    tmp_path: Path,
) -> None:
    result = await run(SHORT, tmp_path / "services")
    (tmp_path / "chaos.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    report = summary(result)
    print(report)  # shown with -s or on failure, with the seed to replay the schedule

    referrals, found, quiet = result["referrals"], result["audit"], result["quiet"]
    assert sum(result["faults"].values()) == (
        SHORT.service_kills + SHORT.broker_restarts + SHORT.postgres_stops
    ), report
    assert referrals["accepted"] > 0, report
    assert referrals["accepted"] == referrals["offered"], report
    assert referrals["refused_4xx"] == [], report
    assert found["lost_total"] == 0, report
    assert found["duplicated_total"] == 0, report
    assert quiet["reached"], report
