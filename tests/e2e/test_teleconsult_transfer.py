"""What a signed recommendation starts, across the services as processes: advice to transfer for
thrombectomy starts the transfer referral to the chosen centre (telemedicine's event on Kafka,
the referral service's own intake), linked to the referral and the consult on both timelines;
the spoke's confirmation of the recommended thrombolysis records the needle, with who and when."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.harness import TELEMEDICINE_URL, ServiceProcesses, consult_of
from tests.e2e.recommendations import signed_recommendation
from tests.support import as_hospital, as_person, eventually, referral_bundle

pytestmark = pytest.mark.e2e

SPOKE, HUB, CENTRE = "sikao-hospital", "trang-hospital", "songklanagarind-hospital"
FHIR_JSON = {"Content-Type": "application/fhir+json"}
# Advice to transfer for thrombectomy, without thrombolysis.
TRANSFER_TO_THE_CENTRE: dict[str, Any] = {
    "decision": "do-not-give",
    "drug": None,
    "thrombectomy_transfer": True,
    "target_centre": CENTRE,
}


async def accepted_consult(referral_api: httpx.AsyncClient) -> tuple[str, str]:
    """A referral from the spoke to the hub asking for a teleconsult, the consult accepted:
    (referral id, consult id)."""
    bundle, referral_id, _ = referral_bundle(teleconsult=True)
    sent = await referral_api.post("/fhir/$process-message", json=bundle, headers=FHIR_JSON)
    assert sent.status_code == 200, sent.text
    consult = await consult_of(referral_id, HUB)
    async with httpx.AsyncClient(base_url=TELEMEDICINE_URL, headers=as_hospital(HUB)) as hub:
        accepted = await hub.post(
            f"/consults/{consult['id']}/steps",
            json={"stage": "accepted", "by": "Practitioner/dr-trang-neuro"},
        )
        assert accepted.status_code == 200, accepted.text
    return referral_id, str(consult["id"])


async def sign(consult_id: str, **changes: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=TELEMEDICINE_URL, headers=as_hospital(HUB)) as hub:
        signed = await hub.post(
            f"/consults/{consult_id}/recommendations", json=signed_recommendation(**changes)
        )
    assert signed.status_code == 201, signed.text
    result: dict[str, Any] = signed.json()
    return result


async def timeline(referral_api: httpx.AsyncClient, referral_id: str) -> list[dict[str, Any]]:
    answer = await referral_api.get(f"/referrals/{referral_id}")
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()["timeline"]
    return entries


async def test_advice_to_transfer_for_thrombectomy_starts_the_transfer_referral_to_the_centre(
    referral_api: httpx.AsyncClient, services: ServiceProcesses
) -> None:
    referral_id, consult_id = await accepted_consult(referral_api)

    await sign(consult_id, **TRANSFER_TO_THE_CENTRE)

    async def transfer_entry() -> list[dict[str, Any]]:
        return [
            e
            for e in await timeline(referral_api, referral_id)
            if e["event"] == "transfer-requested"
        ]

    (started,) = await eventually(transfer_entry, what="the transfer on the referral's timeline")
    transfer_id = started["detail"]["transfer"]
    assert started["detail"] | {"transfer": "-"} == {
        "transfer_of": referral_id,
        "consult": consult_id,
        "to": CENTRE,
        "transfer": "-",
    }
    # The transfer is a referral of its own, from the spoke (where the patient is) to the
    # centre, through the normal intake: routed, announced, on the patient's clock.
    transfer = (await referral_api.get(f"/referrals/{transfer_id}")).json()
    assert (transfer["requester"], transfer["owner"], transfer["status"]) == (
        SPOKE,
        CENTRE,
        "requested",
    )
    (requested,) = [e for e in transfer["timeline"] if e["event"] == "referral-requested"]
    assert requested["detail"]["transfer_of"] == referral_id
    assert {link["id"] for link in transfer["patient_referrals"]} >= {referral_id, transfer_id}
    centre_view = await referral_api.get(f"/referrals/{transfer_id}", headers=as_hospital(CENTRE))
    assert centre_view.status_code == 200

    # An amendment to the same centre starts nothing new.
    await sign(consult_id, **TRANSFER_TO_THE_CENTRE)

    async def both_versions() -> list[dict[str, Any]] | None:
        entries = [
            e
            for e in await timeline(referral_api, referral_id)
            if e["event"] == "teleconsult-recommended"
        ]
        return entries if len(entries) == 2 else None

    await eventually(both_versions, what="the amendment on the timeline")
    assert len(await transfer_entry()) == 1


async def test_advice_to_transfer_to_an_unknown_centre_is_kept_and_the_refusal_shown(
    referral_api: httpx.AsyncClient, services: ServiceProcesses
) -> None:
    referral_id, consult_id = await accepted_consult(referral_api)

    await sign(
        consult_id,
        decision="do-not-give",
        drug=None,
        thrombectomy_transfer=True,
        target_centre="nowhere-hospital",
    )

    async def steps() -> list[str] | None:
        events = [e["event"] for e in await timeline(referral_api, referral_id)]
        return events if "transfer-requested" in events else None

    events = await eventually(steps, what="the refused transfer on the timeline")
    assert "teleconsult-recommended" in events
    (refused,) = [
        e for e in await timeline(referral_api, referral_id) if e["event"] == "transfer-requested"
    ]
    assert refused["detail"]["outcome"].startswith("not started")
    assert "nowhere-hospital" in refused["detail"]["outcome"]


async def test_the_spoke_confirming_the_recommended_thrombolysis_records_the_needle(
    referral_api: httpx.AsyncClient, services: ServiceProcesses
) -> None:
    referral_id, consult_id = await accepted_consult(referral_api)
    page = f"/app/consults/{consult_id}"
    nurse = as_person(SPOKE, "nurse.sikao", "nurse")
    async with httpx.AsyncClient(base_url=TELEMEDICINE_URL, timeout=30) as web:
        # Before any advice to give, there is nothing to confirm.
        early = await web.post(f"{page}/needle", headers=nurse)
        assert early.status_code == 409, early.text
        await sign(consult_id)
        # Only the spoke confirms its needle; a third hospital does not even see the consult.
        hub_try = await web.post(f"{page}/needle", headers=as_person(HUB, "dr-anan"))
        assert hub_try.status_code == 403
        third = await web.post(f"{page}/needle", headers=as_person("palian-hospital", "dr-far"))
        assert third.status_code == 404
        shown = await web.get(page, headers=nurse)
        assert 'data-action="confirm-needle"' in shown.text
        confirmed = await web.post(f"{page}/needle", headers=nurse)
        assert confirmed.status_code == 303, confirmed.text

    async def needle() -> list[dict[str, Any]]:
        return [
            e
            for e in await timeline(referral_api, referral_id)
            if e["event"] == "clinical-update" and e["detail"].get("milestone") == "needle"
        ]

    (entry,) = await eventually(needle, what="the needle on the referral's timeline")
    # (A signed identity made up by the test: no account of the web app to name it by.)
    assert entry["detail"]["recorded_by"] == "app-user/nurse.sikao"
    assert entry["detail"]["hospital"] == SPOKE
    milestones = (await referral_api.get(f"/referrals/{referral_id}")).json()["milestones"]
    (recorded,) = [m for m in milestones if m["code"] == "needle"]
    assert recorded["hospital"] == SPOKE
    assert recorded["occurred_at"] == entry["occurred_at"]
    # A hospital system confirms over REST with its key; a needle already recorded stays.
    async with httpx.AsyncClient(base_url=TELEMEDICINE_URL, headers=as_hospital(SPOKE)) as api:
        again = await api.post(f"/consults/{consult_id}/needle", json={"by": "nurse-b"})
        assert again.status_code == 202, again.text
    assert len(await needle()) == 1
