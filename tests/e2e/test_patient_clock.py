"""One patient, one clock, on the real stack: a re-routed patient's times follow it to the new
referral and reach the KPI once; a needle given at the hub is the hub's door-to-needle, never the
spoke's; the timeline shows clinical times; accept-by counts from when the spoke asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.clinical_updates import a_day_of_its_own, clinical_update, ct, encounter, needle
from tests.support import as_hospital, hospital_message, referral_bundle

pytestmark = pytest.mark.e2e

FHIR_JSON = {"Content-Type": "application/fhir+json"}
SPOKE, HUB, CENTRE = "sikao-hospital", "trang-hospital", "songklanagarind-hospital"


def _month(day: datetime) -> str:
    return f"{day.year}-{day.month:02d}"


async def _post(api: httpx.AsyncClient, bundle: dict[str, Any], org: str) -> None:
    response = await api.post(
        "/fhir/$process-message", json=bundle, headers={**FHIR_JSON, **as_hospital(org)}
    )
    assert response.status_code == 200, response.text


async def _detail(api: httpx.AsyncClient, referral_id: str, org: str) -> dict[str, Any]:
    response = await api.get(f"/referrals/{referral_id}", headers=as_hospital(org))
    assert response.status_code == 200, response.text
    detail: dict[str, Any] = response.json()
    return detail


async def _kpi(api: httpx.AsyncClient, org: str, month: str) -> list[dict[str, Any]]:
    response = await api.get("/reports/kpi", params={"month": month}, headers=as_hospital(org))
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


def _new_referral(lkw: datetime | None = None) -> tuple[dict[str, Any], str]:
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    if lkw is not None:
        lkw_observation = next(
            e["resource"] for e in bundle["entry"] if e["resource"].get("id", "").startswith("lkw-")
        )
        lkw_observation["effectiveDateTime"] = lkw.isoformat()
    return bundle, referral_id


async def test_a_rerouted_patients_dtn_and_dido_reach_the_kpi_exactly_once(
    referral_api: httpx.AsyncClient,
) -> None:
    day = await a_day_of_its_own(referral_api, (SPOKE, HUB, CENTRE))
    bundle, first_id = _new_referral(lkw=day)
    await _post(referral_api, bundle, SPOKE)
    # Door-in 09:30 and CT 09:45 at Sikao, before Trang declines.
    await _post(
        referral_api,
        clinical_update(
            first_id,
            SPOKE,
            HUB,
            encounter(start=day + timedelta(minutes=30)),
            ct(day + timedelta(minutes=45)),
        ),
        SPOKE,
    )
    declined, _ = hospital_message(
        "referral-declined",
        sender=HUB,
        receiver=SPOKE,
        referral_id=first_id,
        status="rejected",
        status_reason="stroke unit full",
    )
    await _post(referral_api, declined, HUB)
    rerouted_id = f"{first_id}.r1"
    rerouted = await _detail(referral_api, rerouted_id, CENTRE)
    # The new referral carries every milestone so far, the CT too.
    assert rerouted["metrics"]["door-to-ct"]["minutes"] == 15
    assert [r["id"] for r in rerouted["patient_referrals"]] == [first_id, rerouted_id]

    # Sikao goes on reporting on the referral it knows; Songklanagarind on its own.
    await _post(
        referral_api,
        clinical_update(first_id, SPOKE, HUB, needle(day + timedelta(minutes=80), SPOKE)),
        SPOKE,
    )
    await _post(
        referral_api,
        clinical_update(rerouted_id, SPOKE, CENTRE, encounter(end=day + timedelta(minutes=130))),
        SPOKE,
    )
    await _post(
        referral_api,
        clinical_update(rerouted_id, CENTRE, SPOKE, encounter(start=day + timedelta(minutes=210))),
        CENTRE,
    )

    for referral_id, reader in ((first_id, SPOKE), (rerouted_id, CENTRE)):
        metrics = (await _detail(referral_api, referral_id, reader))["metrics"]
        assert {code: metrics[code]["minutes"] for code in ("door-to-needle", "dido")} == {
            "door-to-needle": 50,
            "dido": 100,
        }
    # The timeline shows the needle at its clinical time, and when it came, apart.
    first = await _detail(referral_api, first_id, SPOKE)
    needle_step = next(s for s in first["timeline"] if s["detail"].get("milestone") == "needle")
    assert needle_step["occurred_at"] == (day + timedelta(minutes=80)).isoformat()
    assert needle_step["recorded_at"] > needle_step["occurred_at"]
    assert needle_step["detail"]["hospital"] == SPOKE

    # Trang, which declined, sees the clock as it was when it let the patient go.
    declined_view = await _detail(referral_api, first_id, HUB)
    assert {m["code"] for m in declined_view["milestones"]} == {
        "referral-requested",
        "lkw",
        "door-in-first",
        "ct-started",
    }
    assert [r["id"] for r in declined_view["patient_referrals"]] == [first_id]

    month = _month(day)
    (spoke_row,) = await _kpi(referral_api, SPOKE, month)
    assert (spoke_row["patients"], spoke_row["dtn_count"], spoke_row["dtn_median_min"]) == (
        1,
        1,
        50.0,
    )
    assert (spoke_row["dido_count"], spoke_row["dido_median_min"]) == (1, 100.0)
    assert spoke_row["door_to_ct_median_min"] == 15.0
    (centre_row,) = await _kpi(referral_api, CENTRE, month)
    assert (centre_row["patients"], centre_row["dtn_count"]) == (1, 0)
    assert await _kpi(referral_api, HUB, month) == []  # declined: nothing happened there


async def test_a_needle_given_at_the_hub_is_the_hubs_door_to_needle_never_the_spokes(
    referral_api: httpx.AsyncClient,
) -> None:
    day = await a_day_of_its_own(referral_api, (SPOKE, HUB))
    bundle, referral_id = _new_referral(lkw=day)
    await _post(referral_api, bundle, SPOKE)
    accepted, _ = hospital_message(
        "referral-accepted", sender=HUB, receiver=SPOKE, referral_id=referral_id, status="accepted"
    )
    await _post(referral_api, accepted, HUB)
    # Sikao: door-in 09:20, no needle, door-out 10:35. Trang: arrival 11:00, alteplase 11:20.
    await _post(
        referral_api,
        clinical_update(
            referral_id,
            SPOKE,
            HUB,
            encounter(start=day + timedelta(minutes=20), end=day + timedelta(minutes=95)),
        ),
        SPOKE,
    )
    await _post(
        referral_api,
        clinical_update(
            referral_id,
            HUB,
            SPOKE,
            encounter(start=day + timedelta(minutes=120)),
            needle(day + timedelta(minutes=140), HUB),
        ),
        HUB,
    )
    metrics = (await _detail(referral_api, referral_id, SPOKE))["metrics"]
    assert "door-to-needle" not in metrics  # the spoke gave no needle
    hub_dtn = metrics["hub-door-to-needle"]
    assert (hub_dtn["minutes"], hub_dtn["met"], hub_dtn["hospital"]) == (20, True, HUB)
    assert metrics["dido"]["minutes"] == 75

    month = _month(day)
    (spoke_row,) = await _kpi(referral_api, SPOKE, month)
    assert (spoke_row["dtn_count"], spoke_row["dido_count"]) == (0, 1)
    (hub_row,) = await _kpi(referral_api, HUB, month)
    assert (hub_row["dtn_count"], hub_row["dtn_median_min"], hub_row["dido_count"]) == (
        1,
        20.0,
        0,
    )


async def test_accept_by_counts_from_when_the_spoke_asked(referral_api: httpx.AsyncClient) -> None:
    bundle, referral_id = _new_referral()
    asked = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=4)
    task = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Task")
    task["authoredOn"] = asked.isoformat()
    await _post(referral_api, bundle, SPOKE)
    detail = await _detail(referral_api, referral_id, SPOKE)
    assert datetime.fromisoformat(detail["accept_by"]) == asked + timedelta(minutes=10)
    assert detail["accept_by"].endswith("+07:00")
    assert "." not in detail["accept_by"]


async def test_a_rerouted_referral_is_asked_when_the_network_reroutes_not_at_the_decline(
    referral_api: httpx.AsyncClient,
) -> None:
    bundle, first_id = _new_referral()
    await _post(referral_api, bundle, SPOKE)
    declined, _ = hospital_message(
        "referral-declined",
        sender=HUB,
        receiver=SPOKE,
        referral_id=first_id,
        status="rejected",
        status_reason="no neurologist",
    )
    # The declining hospital's clock says the decline was an hour ago.
    task = next(e["resource"] for e in declined["entry"] if e["resource"]["resourceType"] == "Task")
    task["lastModified"] = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    await _post(referral_api, declined, HUB)
    rerouted = await _detail(referral_api, f"{first_id}.r1", SPOKE)
    now = datetime.now(UTC)
    asked = datetime.fromisoformat(rerouted["timeline"][0]["occurred_at"])
    assert rerouted["timeline"][0]["event"] == "referral-requested"
    assert now - timedelta(minutes=2) < asked <= now
    accept_by = datetime.fromisoformat(rerouted["accept_by"])
    assert accept_by - asked == timedelta(minutes=10)
