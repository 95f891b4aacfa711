"""Milestones, metrics and time-critical alerts on the real stack."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from tests.e2e.clinical_updates import (
    a_day_of_its_own,
    clinical_update,
    encounter,
    needle,
    resource_in,
)
from tests.e2e.harness import WebhookReceiver
from tests.support import as_hospital, at_least, eventually, referral_bundle

pytestmark = pytest.mark.e2e

FHIR_JSON = {"Content-Type": "application/fhir+json"}
SPOKE, HUB = "sikao-hospital", "trang-hospital"
BANGKOK = timezone(timedelta(hours=7))


async def _post(api: httpx.AsyncClient, bundle: dict[str, Any], org: str = SPOKE) -> None:
    response = await api.post(
        "/fhir/$process-message", json=bundle, headers={**FHIR_JSON, **as_hospital(org)}
    )
    assert response.status_code == 200, response.text


def _clinical_update(
    referral_id: str, *, door_in: datetime, needle_at: datetime | None
) -> dict[str, Any]:
    """What the spoke's HIS sends: its Encounter (door-in) and the thrombolysis (needle)."""
    given = [needle(needle_at, SPOKE)] if needle_at else []
    return clinical_update(referral_id, SPOKE, HUB, encounter(start=door_in), *given)


async def test_clinical_times_give_metrics_and_the_monthly_kpi_report(
    referral_api: httpx.AsyncClient,
) -> None:
    day = await a_day_of_its_own(referral_api, (SPOKE, "palian-hospital"))
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    resource_in(bundle, "Observation", "lkw-")["effectiveDateTime"] = day.isoformat()
    resource_in(bundle, "Task")["authoredOn"] = (day + timedelta(minutes=50)).isoformat()
    await _post(referral_api, bundle)
    await _post(
        referral_api,
        _clinical_update(
            referral_id,
            door_in=day + timedelta(minutes=30),
            needle_at=day + timedelta(minutes=70),
        ),
    )
    detail = (await referral_api.get(f"/referrals/{referral_id}")).json()
    metrics = detail["metrics"]
    assert metrics["onset-to-door"]["minutes"] == 30
    assert metrics["door-to-needle"] == {
        "code": "door-to-needle",
        "minutes": 40,
        "target_minutes": 60,
        "met": True,
        "uncertain": False,
        "hospital": SPOKE,
        "duration": "0:40",
    }
    assert {m["code"] for m in detail["milestones"]} >= {"lkw", "door-in-first", "needle"}

    month = f"{day.year}-{day.month:02d}"
    rows = (await referral_api.get("/reports/kpi", params={"month": month})).json()
    assert len(rows) == 1
    row = rows[0]
    assert (row["hospital_id"], row["patients"], row["dtn_count"]) == (SPOKE, 1, 1)
    assert (row["dtn_le_60_pct"], row["dtn_le_45_pct"], row["dtn_le_30_pct"]) == (
        100.0,
        100.0,
        0.0,
    )
    assert row["dtn_median_min"] == 40
    csv = await referral_api.get("/reports/kpi", params={"month": month, "format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    header, line = csv.text.strip().splitlines()
    assert header.startswith("hospital_id,month,patients,dtn_count,dtn_le_60_pct")
    assert line.startswith(f"{SPOKE},{month},1,1,100.0,100.0,0.0,40.0,")
    # Another hospital's report does not include Sikao's referrals.
    other = await referral_api.get(
        "/reports/kpi", params={"month": month}, headers=as_hospital("palian-hospital")
    )
    assert other.json() == []


async def test_an_alert_is_raised_before_the_thrombolysis_window_closes(
    referral_api: httpx.AsyncClient, webhook: WebhookReceiver
) -> None:
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    # Last known well 3 h 29 min 57 s ago and no needle: the LKW + 3.5 h alert is 3 s away.
    lkw = datetime.now(UTC) - timedelta(hours=3, minutes=29, seconds=57)
    resource_in(bundle, "Observation", "lkw-")["effectiveDateTime"] = lkw.astimezone(
        BANGKOK
    ).isoformat()
    resource_in(bundle, "Task")["authoredOn"] = datetime.now(UTC).isoformat()
    await _post(referral_api, bundle)
    assert not [n for n in webhook.for_referral(referral_id) if "lkw-3h30" in n.body["text"]]

    async def alerted() -> list[str] | None:
        found = sorted(
            n.body["recipient"]
            for n in webhook.for_referral(referral_id)
            if "lkw-3h30-no-needle" in n.body["text"]
        )
        # Each hospital's copy is its own delivery: wait for both, not the first.
        return found if len(found) >= 2 else None

    recipients = await eventually(alerted, timeout=30, what="the LKW + 3.5 h alert")
    assert recipients == [f"Organization/{SPOKE}", f"Organization/{HUB}"]
    detail = (await referral_api.get(f"/referrals/{referral_id}")).json()
    alerts = [
        s["detail"]["alert"] for s in detail["timeline"] if s["event"] == "time-critical-alert"
    ]
    assert alerts == ["lkw-3h30-no-needle"]  # once, and the 4 h alert is not due yet
    thrombolysis = next(w for w in detail["windows"] if w["code"] == "thrombolysis")
    assert 55 < thrombolysis["minutes_left"] <= 60


async def test_no_page_for_a_window_that_closed_long_ago(
    referral_api: httpx.AsyncClient, webhook: WebhookReceiver
) -> None:
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    lkw = datetime.now(UTC) - timedelta(hours=9)  # both LKW alerts' windows closed hours ago
    resource_in(bundle, "Observation", "lkw-")["effectiveDateTime"] = lkw.isoformat()
    resource_in(bundle, "Task")["authoredOn"] = datetime.now(UTC).isoformat()
    await _post(referral_api, bundle)
    await eventually(
        lambda: at_least(webhook.for_referral(referral_id)), what="the stroke team alert"
    )
    await asyncio.sleep(2)  # four sweeps of the alert watcher
    texts = [n.body["text"] for n in webhook.for_referral(referral_id)]
    assert not [t for t in texts if "lkw-" in t], texts


WAKE_UP = [
    {
        "url": "https://fasttrack.example.org/fhir/StructureDefinition/time-uncertain",
        "valueBoolean": True,
    },
    {
        "url": "https://fasttrack.example.org/fhir/StructureDefinition/time-source",
        "valueCode": "estimated",
    },
]


async def test_a_wake_up_strokes_windows_and_alerts_say_they_are_estimated(
    referral_api: httpx.AsyncClient, webhook: WebhookReceiver
) -> None:
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    # Found on waking: last seen well at bedtime, an estimate, 3 h 29 min 57 s ago.
    lkw = datetime.now(UTC) - timedelta(hours=3, minutes=29, seconds=57)
    observation = resource_in(bundle, "Observation", "lkw-")
    observation["effectiveDateTime"] = lkw.astimezone(BANGKOK).isoformat()
    observation["extension"] = WAKE_UP
    resource_in(bundle, "Task")["authoredOn"] = datetime.now(UTC).isoformat()
    await _post(referral_api, bundle)
    await _post(
        referral_api,
        _clinical_update(referral_id, door_in=lkw + timedelta(minutes=100), needle_at=None),
    )

    async def alerted() -> str | None:
        return next(
            (
                n.body["text"]
                for n in webhook.for_referral(referral_id)
                if "lkw-3h30-no-needle" in n.body["text"]
            ),
            None,
        )

    text = await eventually(alerted, timeout=30, what="the LKW + 3.5 h alert")
    assert "(estimated)" in text
    assert "closes about" in text
    assert "if LKW is right" in text
    detail = (await referral_api.get(f"/referrals/{referral_id}")).json()
    lkw_milestone = next(m for m in detail["milestones"] if m["code"] == "lkw")
    assert (lkw_milestone["source"], lkw_milestone["uncertain"]) == ("estimated", True)
    assert [w["uncertain"] for w in detail["windows"]] == [True, True, True]
    assert detail["metrics"]["onset-to-door"]["uncertain"] is True
