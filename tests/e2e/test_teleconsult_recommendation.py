"""The consultant's signed recommendation, across the services as processes: a "give" with an
absolute exclusion is refused; a signed one carries the dose from the weight and lands on the
referral's timeline; an amendment is a new version beside the first; a third hospital cannot
read or sign it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.clinical_updates import a_day_of_its_own, clinical_update, encounter
from tests.e2e.harness import SERVICE_PORTS, ServiceProcesses
from tests.e2e.recommendations import CLEAR, signed_recommendation
from tests.support import as_hospital, eventually, referral_bundle

pytestmark = pytest.mark.e2e

SPOKE, HUB, THIRD = "sikao-hospital", "trang-hospital", "palian-hospital"
TELEMEDICINE_URL = f"http://127.0.0.1:{SERVICE_PORTS['telemedicine']}"
FHIR_JSON = {"Content-Type": "application/fhir+json"}


async def test_a_signed_recommendation_reaches_the_timeline_and_a_give_with_an_exclusion_does_not(
    referral_api: httpx.AsyncClient, services: ServiceProcesses
) -> None:
    # A day of its own for the KPI row: stroke and door-in that day, the consult paged today.
    day = await a_day_of_its_own(referral_api, (SPOKE,))
    bundle, referral_id, _ = referral_bundle(teleconsult=True)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["id"].startswith("lkw-"):
            resource["effectiveDateTime"] = day.isoformat()
        if resource["resourceType"] == "Task":
            resource["authoredOn"] = (day + timedelta(minutes=50)).isoformat()
    sent = await referral_api.post("/fhir/$process-message", json=bundle, headers=FHIR_JSON)
    assert sent.status_code == 200, sent.text
    door_in = clinical_update(referral_id, SPOKE, HUB, encounter(start=day + timedelta(minutes=30)))
    sent = await referral_api.post("/fhir/$process-message", json=door_in, headers=FHIR_JSON)
    assert sent.status_code == 200, sent.text
    async with httpx.AsyncClient(base_url=TELEMEDICINE_URL, headers=as_hospital(HUB)) as hub:

        async def listed() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = (
                await hub.get("/consults", params={"referral": referral_id})
            ).json()
            return found

        (consult,) = await eventually(listed, what="the consult")
        url = f"/consults/{consult['id']}"
        accepted = await hub.post(
            f"{url}/steps", json={"stage": "accepted", "by": "Practitioner/dr-trang-neuro"}
        )
        assert accepted.status_code == 200, accepted.text

        # Haemorrhage ticked on the checklist: "give" is refused, whatever the override says.
        refused = await hub.post(
            f"{url}/recommendations",
            json=signed_recommendation(
                checklist=CLEAR | {"intracranial-haemorrhage": "yes"}, override_reason="sure"
            ),
        )
        assert refused.status_code == 409, refused.text
        assert "absolute exclusion: intracranial-haemorrhage" in refused.text
        # An unknown absolute exclusion needs an override reason.
        unknown = await hub.post(
            f"{url}/recommendations",
            json=signed_recommendation(checklist=CLEAR | {"bleeding-diathesis": "unknown"}),
        )
        assert unknown.status_code == 409
        assert "override reason" in unknown.text
        # The spoke does not sign the hub's advice; a third hospital does not even see it.
        spoke = await hub.post(
            f"{url}/recommendations", json=signed_recommendation(), headers=as_hospital(SPOKE)
        )
        assert spoke.status_code == 403
        third = await hub.post(
            f"{url}/recommendations", json=signed_recommendation(), headers=as_hospital(THIRD)
        )
        assert third.status_code == 404
        assert (await hub.get(url, headers=as_hospital(THIRD))).status_code == 404

        signed = await hub.post(
            f"{url}/recommendations",
            json=signed_recommendation(
                checklist=CLEAR | {"bleeding-diathesis": "unknown"},
                override_reason="INR pending; no anticoagulant history",
            ),
        )
        assert signed.status_code == 201, signed.text
        first = signed.json()
        assert (first["version"], first["decision"], first["findings"]["nihss_total"]) == (
            1,
            "give",
            5,
        )
        assert first["dose"] == {
            "total_mg": "63.0",
            "bolus_mg": "6.3",
            "infusion_mg": "56.7",
            "infusion_minutes": 60,
        }
        assert (await hub.get(url)).json()["stage"] == "recommended"

        # An amendment: a new version, the first kept as it was.
        amended = await hub.post(
            f"{url}/recommendations",
            json=signed_recommendation(
                decision="do-not-give",
                drug=None,
                thrombectomy_transfer=True,
                target_centre="songkhla-hospital",
            ),
        )
        assert amended.status_code == 201, amended.text
        versions = (await hub.get(f"{url}/recommendations", headers=as_hospital(SPOKE))).json()
        assert [v["version"] for v in versions] == [1, 2]
        assert versions[0] == first
        assert versions[1]["target_centre"] == "songkhla-hospital"

    async def recommended_on_timeline() -> list[dict[str, Any]] | None:
        timeline = (await referral_api.get(f"/referrals/{referral_id}")).json()["timeline"]
        found = [e for e in timeline if e["event"] == "teleconsult-recommended"]
        return found if len(found) == 2 else None

    entries = await eventually(recommended_on_timeline, what="both versions on the timeline")
    decisions = [entry["detail"]["recommendation"] for entry in entries]
    assert decisions[0]["thrombolysis"] == "give"
    assert decisions[0]["drug"] == "alteplase"
    assert decisions[0]["dose"] == "63.0 mg"
    assert decisions[0]["signed-by"] == "Practitioner/dr-trang-neuro"
    assert decisions[1]["thrombolysis"] == "do-not-give"
    assert decisions[1]["thrombectomy-transfer"] is True
    assert decisions[1]["target-centre"] == "Organization/songkhla-hospital"

    # The spoke's KPI row has the consult's times: paged decades after that door-in (late),
    # acknowledged within minutes; no video (advice without it), so no video intervals.
    month = f"{day.year}-{day.month:02d}"
    (row,) = (await referral_api.get("/reports/kpi", params={"month": month})).json()
    assert (row["consult_count"], row["door_to_consult_request_le_15_pct"]) == (1, 0.0)
    assert 0 <= row["consult_request_to_ack_median_min"] < 10
    assert row["consult_ack_to_video_median_min"] is None
