"""The consult pages under /app/consults/, as the proxy serves them (with the web app's signed
identity of the person): the hub doctor's queue lists the consult, the consult page accepts it,
starts the video and joins the room with a token for that room only; the recommendation form
refuses a "give" with an absolute exclusion and signs a sound one; a third hospital's doctor
finds nothing; without an identity the pages answer 401."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from services.telemedicine.config import DEVELOPMENT_VIDEO_SECRET
from services.telemedicine.domain.recommendation import NIHSS_ITEMS
from services.telemedicine.domain.thrombolysis_checklist import CHECKLIST, INCLUSIONS
from shared.web_identity import IDENTITY_HEADER
from tests.e2e.harness import SERVICE_PORTS, ServiceProcesses
from tests.support import as_hospital, as_person, eventually, referral_bundle

pytestmark = pytest.mark.e2e

HUB, SPOKE, THIRD = "trang-hospital", "sikao-hospital", "palian-hospital"
TELEMEDICINE_URL = f"http://127.0.0.1:{SERVICE_PORTS['telemedicine']}"
FHIR_JSON = {"Content-Type": "application/fhir+json"}


def recommendation_form(**changes: str) -> dict[str, str]:
    form = {f"nihss-{item}": "0" for item in NIHSS_ITEMS} | {"nihss-5a": "3"}
    form |= {f"check-{code}": "yes" if code in INCLUSIONS else "no" for code in CHECKLIST}
    form |= {
        "systolic_mmhg": "170",
        "diastolic_mmhg": "95",
        "weight_kg": "60",
        "glucose_mg_dl": "120",
        "haemorrhage": "no",
        "aspects": "9",
        "lvo_site": "none",
        "decision": "give",
        "drug": "alteplase",
        "thrombectomy_transfer": "no",
    }
    return form | changes


async def test_a_hub_doctor_answers_a_consult_from_its_pages(
    referral_api: httpx.AsyncClient, services: ServiceProcesses
) -> None:
    bundle, referral_id, _ = referral_bundle(teleconsult=True)
    sent = await referral_api.post("/fhir/$process-message", json=bundle, headers=FHIR_JSON)
    assert sent.status_code == 200, sent.text
    doctor = as_person(HUB, "dr-anan")
    async with httpx.AsyncClient(base_url=TELEMEDICINE_URL, timeout=30) as web:

        async def listed() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = (
                await web.get(
                    "/consults", params={"referral": referral_id}, headers=as_hospital(HUB)
                )
            ).json()
            return found

        (consult,) = await eventually(listed, what="the consult")
        page = f"/app/consults/{consult['id']}"
        queue = await web.get("/app/consults/", headers=doctor)
        assert queue.status_code == 200
        assert f'data-consult="{consult["id"]}"' in queue.text

        assert (await web.get(page)).status_code == 401  # no identity: the proxy's login
        assert (await web.get(page, headers=as_person(THIRD, "dr-far"))).status_code == 404
        # The spoke's nurse sees the consult but not the consultant's buttons.
        spoke_view = await web.get(page, headers=as_person(SPOKE, "nurse-a", "nurse", "th"))
        assert spoke_view.status_code == 200
        assert "รับปรึกษา" not in spoke_view.text
        assert 'lang="th"' in spoke_view.text

        # The doctor's identity without the session's token (a sibling site's form): refused.
        forged = await web.post(
            f"{page}/steps",
            data={"stage": "accepted"},
            headers={IDENTITY_HEADER: doctor[IDENTITY_HEADER]},
        )
        assert forged.status_code == 403
        accepted = await web.post(f"{page}/steps", data={"stage": "accepted"}, headers=doctor)
        assert accepted.status_code == 303
        video = await web.post(f"{page}/steps", data={"stage": "in-video"}, headers=doctor)
        assert video.status_code == 303
        joined = await web.post(f"{page}/join", headers=doctor)
        assert joined.status_code == 303
        token = parse_qs(urlsplit(joined.headers["location"]).query)["jwt"][0]
        claims = jwt.decode(token, DEVELOPMENT_VIDEO_SECRET, algorithms=["HS256"], audience="jitsi")
        assert claims["context"]["user"]["id"] == "Practitioner/dr-anan"
        assert urlsplit(joined.headers["location"]).path == f"/{claims['room']}"

        refused = await web.post(
            f"{page}/recommendations",
            data=recommendation_form(**{"check-gi-bleeding-21-days": "yes"}),
            headers=doctor,
        )
        assert refused.status_code == 409
        assert "absolute exclusion: gi-bleeding-21-days" in refused.text
        signed = await web.post(
            f"{page}/recommendations", data=recommendation_form(), headers=doctor
        )
        assert signed.status_code == 303, signed.text
        shown = await web.get(page, headers=doctor)
        assert 'id="stage">recommended<' in shown.text
        assert "alteplase 54.0 mg (bolus 5.4 mg)" in shown.text
        versions = await web.get(
            f"/consults/{consult['id']}/recommendations", headers=as_hospital(SPOKE)
        )
        assert [v["signed_by"] for v in versions.json()] == ["Practitioner/dr-anan"]
