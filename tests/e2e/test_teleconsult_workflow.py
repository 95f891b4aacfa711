"""Telestroke consults across the three services as processes: the referral that asks for a
teleconsult pages the hub's on-call consultant through the notifier; nobody acknowledging
climbs the ladder on time (the backup, then the stroke lead with an alert to the spoke, then
failed to connect with the hub's number); an acknowledged page accepts the consult; every step
reaches the referral's timeline; a third hospital cannot read the consult."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from services.telemedicine.config import DEVELOPMENT_VIDEO_SECRET
from tests.e2e.clinical_updates import clinical_update, encounter
from tests.e2e.harness import (
    BACKUP_PHONE,
    KANTANG_LADDER_S,
    KANTANG_PHONE,
    NOTIFIER_URL,
    ON_CALL_PHONE,
    SERVICE_PORTS,
    STROKE_LEAD_PHONE,
    ServiceProcesses,
    WebhookReceiver,
)
from tests.fakes.sms_gateway import FakeSmsGateway
from tests.support import as_hospital, eventually, referral_bundle

pytestmark = pytest.mark.e2e

SPOKE, THIRD = "sikao-hospital", "palian-hospital"
TELEMEDICINE_URL = f"http://127.0.0.1:{SERVICE_PORTS['telemedicine']}"
FHIR_JSON = {"Content-Type": "application/fhir+json"}
# How late a step may come on a busy 2-core machine (the worker polls every 0.5 s here).
SLACK_S = 6.0


async def _ask_teleconsult(referral_api: httpx.AsyncClient, hub: str) -> str:
    bundle, referral_id, _ = referral_bundle(teleconsult=True)
    text = json.dumps(bundle).replace("Organization/trang-hospital", f"Organization/{hub}")
    response = await referral_api.post("/fhir/$process-message", content=text, headers=FHIR_JSON)
    assert response.status_code == 200, response.text
    return referral_id


async def _consult(referral_id: str, hospital: str = SPOKE) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=TELEMEDICINE_URL, headers=as_hospital(hospital)) as api:
        (listed,) = await eventually(
            lambda: _listed(api, referral_id), what="the consult", timeout=60
        )
        consult: dict[str, Any] = (await api.get(f"/consults/{listed['id']}")).json()
        return consult


async def _listed(api: httpx.AsyncClient, referral_id: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = (
        await api.get("/consults", params={"referral": referral_id})
    ).json()
    return listed


def _texts_to(gateway: FakeSmsGateway, phone: str, words: str) -> list[dict[str, Any]]:
    number = f"66{phone[1:]}"
    return [m for m in gateway.messages if m["to"] == number and words in m["text"]]


async def _timeline_stages(referral_api: httpx.AsyncClient, referral_id: str) -> list[str]:
    timeline = (await referral_api.get(f"/referrals/{referral_id}")).json()["timeline"]
    return [
        entry.get("detail", {}).get("stage", "")
        for entry in timeline
        if entry["event"] in ("teleconsult-updated", "teleconsult-recommended")
    ]


async def test_an_unanswered_consult_pages_the_backup_then_the_stroke_lead_then_fails_on_time(
    referral_api: httpx.AsyncClient,
    sms_gateway: FakeSmsGateway,
    webhook: WebhookReceiver,
    services: ServiceProcesses,
) -> None:
    referral_id = await _ask_teleconsult(referral_api, "kantang-hospital")
    consult = await _consult(referral_id)
    assert consult["consultant_hospital"] == "kantang-hospital"
    await eventually(
        lambda: _as_future(_texts_to(sms_gateway, ON_CALL_PHONE, "Telestroke consult")),
        what="the on-call consultant's page",
    )

    async def steps() -> list[dict[str, Any]] | None:
        current = await _consult(referral_id)
        return current["steps"] if current["stage"] == "failed" else None

    history = await eventually(steps, what="the consult to fail to connect", timeout=90)
    requested = datetime.fromisoformat(consult["requested_at"])
    paging = [(s["rung"], s) for s in history if s["stage"] == "paging"]
    assert [rung for rung, _ in paging] == [0, 1, 2]
    # Each rung is paged when the one before has had its time (from the request), not before.
    for (rung, step), due in zip(paging[1:], KANTANG_LADDER_S, strict=False):
        waited = (datetime.fromisoformat(step["at"]) - requested).total_seconds()
        assert due <= waited <= due + SLACK_S, (rung, waited)
        assert step["reason"].startswith("no acknowledgement")
    failed = history[-1]
    waited = (datetime.fromisoformat(failed["at"]) - requested).total_seconds()
    assert KANTANG_LADDER_S[2] <= waited <= KANTANG_LADDER_S[2] + SLACK_S
    assert failed["reason"].startswith("failed to connect")

    # The notifier paged the backup by name and the stroke lead (their own SMS).
    await eventually(
        lambda: _as_future(_texts_to(sms_gateway, STROKE_LEAD_PHONE, "Telestroke consult")),
        what="the stroke lead's page",
    )
    async with httpx.AsyncClient(
        base_url=NOTIFIER_URL, headers=as_hospital("kantang-hospital")
    ) as notifier:
        log = (await notifier.get("/deliveries", params={"referral": referral_id})).json()
    backup_pages = [
        d
        for d in log
        if d["addressed_to"] == "PractitionerRole/kantang-hospital.stroke-neurologist.backup"
    ]
    # (The hospital's own screens get a copy of every page.)
    assert "Practitioner/dr-backup" in {d["recipient"] for d in backup_pages}
    # One owner climbs a consult's ladder (telemedicine): the notifier, whose own ladder repeats
    # an unanswered alert every 2 s here (and does, for the referral's stroke alert to the
    # hospital), leaves the consult's pages alone: each person is paged once, at their rung.
    consult_pages = [
        d
        for d in log
        if d["addressed_to"].startswith("PractitionerRole/")
        and d["recipient"].startswith("Practitioner/")
    ]
    assert sorted((d["recipient"], d["escalation_step"]) for d in consult_pages) == [
        ("Practitioner/dr-backup", 0),
        ("Practitioner/dr-lead", 0),
        ("Practitioner/dr-on-call", 0),
    ]
    assert len(_texts_to(sms_gateway, ON_CALL_PHONE, "Telestroke consult")) == 1
    assert len(_texts_to(sms_gateway, BACKUP_PHONE, "ขอปรึกษาแพทย์ระบบประสาท")) == 1
    assert len(_texts_to(sms_gateway, STROKE_LEAD_PHONE, "Telestroke consult")) == 1

    # The spoke (a webhook-only hospital here) was told the stroke lead was paged, then to call.
    async def spoke_alerts() -> list[str] | None:
        texts = [n.body["text"] for n in webhook.for_referral(referral_id)]
        told = [t for t in texts if "stroke lead" in t or "Call the hub" in t]
        return told if len(told) == 2 else None

    told = await eventually(spoke_alerts, what="both alerts to the spoke")
    assert any(
        f"nobody at the hub answered. Call the hub, Kantang Hospital: {KANTANG_PHONE}" in text
        for text in told
    ), told

    # Every step is on the referral's timeline, in order, with its stage.
    stages = await eventually(
        lambda: _at_least(_timeline_stages(referral_api, referral_id), 4),
        what="the consult's steps on the timeline",
    )
    assert stages == ["paging", "paging", "paging", "failed"]


async def test_a_consult_whose_hub_nobody_can_reach_climbs_at_once_and_fails_telling_the_spoke(
    referral_api: httpx.AsyncClient, webhook: WebhookReceiver, services: ServiceProcesses
) -> None:
    # Trang is reached through its system only (webhook; the default ladder of 5, 10, 15
    # minutes), and its system refuses every page for good: nobody can be reached at the hub.
    hub = "Organization/trang-hospital"
    webhook.refuse_recipients.add(hub)
    try:
        referral_id = await _ask_teleconsult(referral_api, "trang-hospital")
        consult = await _consult(referral_id)

        async def steps() -> list[dict[str, Any]] | None:
            current = await _consult(referral_id)
            return current["steps"] if current["stage"] == "failed" else None

        history = await eventually(steps, what="the consult to fail to connect", timeout=90)
    finally:
        webhook.refuse_recipients.discard(hub)
    requested = datetime.fromisoformat(consult["requested_at"])
    paging = [s for s in history if s["stage"] == "paging"]
    assert [s["rung"] for s in paging] == [0, 1, 2]
    for step in paging[1:]:
        assert step["reason"].startswith("nobody could be reached")
    failed = history[-1]
    assert (
        failed["reason"]
        == "failed to connect: nobody could be reached (the page failed on every channel)"
    )
    # Within seconds of the request, not at the ladder's deadlines (5, 10 and 15 minutes).
    waited = (datetime.fromisoformat(failed["at"]) - requested).total_seconds()
    assert waited < 60, waited

    # The spoke (a webhook-only hospital) was told the stroke lead was paged, then to call.
    async def spoke_alerts() -> list[str] | None:
        texts = [n.body["text"] for n in webhook.for_referral(referral_id)]
        told = [t for t in texts if "stroke lead" in t or "Call the hub" in t]
        return told if len(told) == 2 else None

    told = await eventually(spoke_alerts, what="both alerts to the spoke")
    # Told the truth (nobody could be reached, not "nobody answered"), and, Trang having no
    # number configured, whom to call by name: never an empty number.
    assert any(
        "nobody at the hub could be reached. Call the hub, Trang Hospital, directly" in text
        for text in told
    ), told
    stages = await eventually(
        lambda: _at_least(_timeline_stages(referral_api, referral_id), 4),
        what="the consult's steps on the timeline",
    )
    assert stages == ["paging", "paging", "paging", "failed"]


async def test_an_acknowledged_page_accepts_the_consult_and_the_video_starts(
    referral_api: httpx.AsyncClient, services: ServiceProcesses
) -> None:
    # Trang (webhook only, the default ladder of minutes) acknowledges from its system.
    referral_id = await _ask_teleconsult(referral_api, "trang-hospital")
    consult = await _consult(referral_id)
    hub = as_hospital("trang-hospital")
    async with httpx.AsyncClient(base_url=NOTIFIER_URL, headers=hub) as notifier:

        async def page() -> list[dict[str, Any]]:
            log = (await notifier.get("/deliveries", params={"referral": referral_id})).json()
            return [
                d
                for d in log
                if d["addressed_to"] == "PractitionerRole/trang-hospital.stroke-neurologist"
                and d["channel"] == "webhook"
            ]

        (delivery,) = await eventually(page, what="the page to the hub")
        answer = await notifier.post(f"/deliveries/{delivery['id']}/acknowledge")
        assert answer.status_code == 200, answer.text

    async def accepted() -> dict[str, Any] | None:
        current = await _consult(referral_id)
        return current if current["stage"] == "accepted" else None

    await eventually(accepted, what="the consult accepted")
    async with httpx.AsyncClient(base_url=TELEMEDICINE_URL, headers=hub) as telemedicine:
        moved = await telemedicine.post(
            f"/consults/{consult['id']}/steps",
            json={"stage": "in-video", "by": "Practitioner/dr-trang-neuro"},
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["stage"] == "in-video"
        # The spoke cannot take the consultant's steps; a third hospital does not see it.
        spoke_try = await telemedicine.post(
            f"/consults/{consult['id']}/steps",
            json={"stage": "accepted"},
            headers=as_hospital(SPOKE),
        )
        assert spoke_try.status_code == 403
        third = await telemedicine.get(f"/consults/{consult['id']}", headers=as_hospital(THIRD))
        assert third.status_code == 404
        # Both hospitals get a join token of their own, for this consult's room only.
        hub_join = await telemedicine.post(
            f"/consults/{consult['id']}/join", json={"by": "dr-trang-neuro", "name": "Dr Trang"}
        )
        spoke_join = await telemedicine.post(
            f"/consults/{consult['id']}/join", headers=as_hospital(SPOKE)
        )
        assert hub_join.status_code == spoke_join.status_code == 200, hub_join.text
        assert hub_join.headers["cache-control"] == "no-store"
        hub_claims, spoke_claims = (
            jwt.decode(
                answer.json()["token"],
                DEVELOPMENT_VIDEO_SECRET,
                algorithms=["HS256"],
                audience="jitsi",
                issuer="fasttrack",
            )
            for answer in (hub_join, spoke_join)
        )
        assert hub_claims["room"] == spoke_claims["room"] == hub_join.json()["room"]
        assert hub_claims["context"]["user"] == {
            "id": "Practitioner/dr-trang-neuro",
            "name": "Dr Trang",
            "moderator": True,
        }
        assert spoke_claims["context"]["user"]["moderator"] is False
        assert spoke_claims["context"]["group"] == SPOKE
        third_join = await telemedicine.post(
            f"/consults/{consult['id']}/join", headers=as_hospital(THIRD)
        )
        assert third_join.status_code == 404
        # The tokens never reach the service's spans.
        spans = json.dumps(services.spans("telemedicine"))
        assert hub_join.json()["token"] not in spans
        assert spoke_join.json()["token"] not in spans
        third_list = await telemedicine.get(
            "/consults", params={"referral": referral_id}, headers=as_hospital(THIRD)
        )
        assert third_list.json() == []
    stages = await eventually(
        lambda: _at_least(_timeline_stages(referral_api, referral_id), 3),
        what="the consult's steps on the timeline",
    )
    assert stages == ["paging", "accepted", "in-video"]


async def _as_future(value: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return value


async def _at_least(probe: Any, count: int) -> list[str] | None:
    found: list[str] = await probe
    return found if len(found) >= count else None


async def test_the_spoke_is_alerted_when_the_consultant_was_paged_more_than_15_min_after_door_in(
    referral_api: httpx.AsyncClient, webhook: WebhookReceiver, services: ServiceProcesses
) -> None:
    referral_id = await _ask_teleconsult(referral_api, "trang-hospital")
    await _consult(referral_id)
    # The spoke's system reports its door-in: 20 minutes before the consult was asked for.
    door_in = datetime.now(UTC) - timedelta(minutes=20)
    update = clinical_update(referral_id, SPOKE, "trang-hospital", encounter(start=door_in))
    sent = await referral_api.post("/fhir/$process-message", json=update, headers=FHIR_JSON)
    assert sent.status_code == 200, sent.text

    async def alert() -> list[str] | None:
        texts = [n.body["text"] for n in webhook.for_referral(referral_id)]
        return [t for t in texts if "consult-requested-late" in t] or None

    (text,) = await eventually(alert, what="the late-page alert to the spoke")
    assert "not paged within 15 min of door-in" in text
    timeline = (await referral_api.get(f"/referrals/{referral_id}")).json()["timeline"]
    assert [e["detail"]["alert"] for e in timeline if e["event"] == "time-critical-alert"] == [
        "consult-requested-late"
    ]
