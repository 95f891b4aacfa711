"""Home-isolation monitoring across the three services as processes, on the real Kafka and
PostgreSQL: a hospital enrols a patient; check-ins from the hospital's system (vital-signs
Observations on Kafka) at each threshold open the right flag; a red one starts a teleconsult
that pages the consultant hospital's on-call doctor; a reading no body can have is asked again
and does not count; only the managing hospital lowers a flag, with a reason; a missed check-in
reminds the patient on LINE, then alerts the nurses, and the patient's answer in LINE (a quick
reply, through the notifier's webhook) is a check-in; a third hospital cannot read the episode;
the patient's signed link opens their own form and nothing else."""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from services.telemedicine.adapters.monitoring_repository import PURGE_MONITORING
from shared.db.pool import create_pool
from shared.messaging.topics import HOSPITAL_INBOUND
from shared.retention import purge
from tests.e2e.harness import (
    LINE_SECRET,
    NOTIFIER_URL,
    ON_CALL_PHONE,
    SERVICE_PORTS,
    ServiceProcesses,
    WebhookReceiver,
    dead_letter_reason,
)
from tests.fakes.line_server import FakeLineState, sign
from tests.fakes.sms_gateway import FakeSmsGateway
from tests.support import TestStack, as_hospital, eventually

pytestmark = pytest.mark.e2e

HOSPITAL, HUB, THIRD = "sikao-hospital", "kantang-hospital", "palian-hospital"
TELEMEDICINE_URL = f"http://127.0.0.1:{SERVICE_PORTS['telemedicine']}"
LOINC, UCUM, SNOMED = "http://loinc.org", "http://unitsofmeasure.org", "http://snomed.info/sct"
# (LOINC code, UCUM unit) of each vital sign a hospital system reports.
VITALS = {
    "spo2": ("59408-5", "%"),
    "temperature": ("8310-5", "Cel"),
    "respiratory-rate": ("9279-1", "/min"),
    "heart-rate": ("8867-4", "/min"),
}


async def _enrol(consultant: str = "trang-hospital", **extra: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=TELEMEDICINE_URL, headers=as_hospital(HOSPITAL)) as api:
        response = await api.post(
            "/monitoring/episodes",
            json={
                "patient": f"Patient/hi-{uuid.uuid4().hex[:12]}",
                "hospital_number": f"HN{uuid.uuid4().hex[:6]}",
                "consultant_hospital": consultant,
                **extra,
            },
        )
    assert response.status_code == 201, response.text
    episode: dict[str, Any] = response.json()
    return episode


def _check_in(episode: dict[str, Any], readings: dict[str, float], *, sender: str) -> bytes:
    """A hospital system's monitoring-check-in: one vital-signs Observation per reading."""
    entries = []
    for vital, value in readings.items():
        code, unit = VITALS[vital]
        entries.append(
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "category": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/"
                                    "observation-category",
                                    "code": "vital-signs",
                                }
                            ]
                        }
                    ],
                    "code": {"coding": [{"system": LOINC, "code": code}]},
                    "subject": {"reference": episode["patient"]},
                    "basedOn": [{"reference": f"CarePlan/cp-{episode['id']}"}],
                    "effectiveDateTime": datetime.now(UTC).isoformat(),
                    "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
                },
            }
        )
    header = {
        "fullUrl": f"urn:uuid:{uuid.uuid4()}",
        "resource": {
            "resourceType": "MessageHeader",
            "id": str(uuid.uuid4()),
            "eventCoding": {
                "system": "https://fasttrack.example.org/fhir/CodeSystem/event",
                "code": "monitoring-check-in",
            },
            "source": {"endpoint": f"https://his.{sender}.example/fhir"},
            "sender": {"reference": f"Organization/{sender}"},
            "focus": [{"reference": e["fullUrl"]} for e in entries],
        },
    }
    bundle = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "message",
        "timestamp": datetime.now(UTC).isoformat(),
        "entry": [header, *entries],
    }
    return json.dumps(bundle).encode()


async def _send(stack: TestStack, *messages: tuple[dict[str, Any], bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap_servers, enable_idempotence=True)
    await producer.start()
    try:
        for episode, value in messages:
            await producer.send_and_wait(
                HOSPITAL_INBOUND.name, value=value, key=episode["id"].encode()
            )
    finally:
        await producer.stop()


async def _episode(episode_id: str, hospital: str = HOSPITAL) -> httpx.Response:
    async with httpx.AsyncClient(base_url=TELEMEDICINE_URL, headers=as_hospital(hospital)) as api:
        return await api.get(f"/monitoring/episodes/{episode_id}")


async def _when_checked_in(episode_id: str, count: int) -> dict[str, Any]:
    async def seen() -> dict[str, Any] | None:
        current: dict[str, Any] = (await _episode(episode_id)).json()
        return current if len(current["check_ins"]) >= count else None

    return await eventually(seen, what=f"{count} check-in(s) of {episode_id}")


# (readings, the flag they open): each on an episode of its own, from green.
THRESHOLDS: list[tuple[dict[str, float], str]] = [
    ({"spo2": 96, "respiratory-rate": 20}, "green"),
    ({"spo2": 95}, "yellow"),
    ({"spo2": 94}, "yellow"),
    ({"spo2": 93}, "red"),
    ({"respiratory-rate": 25}, "yellow"),
    ({"respiratory-rate": 26}, "red"),
    ({"temperature": 39.5, "heart-rate": 100}, "yellow"),
    ({"heart-rate": 135}, "red"),
]


async def test_check_ins_at_each_threshold_open_the_right_flag(
    stack: TestStack, services: ServiceProcesses
) -> None:
    episodes = [await _enrol() for _ in THRESHOLDS]
    await _send(
        stack,
        *(
            (episode, _check_in(episode, readings, sender=HOSPITAL))
            for episode, (readings, _) in zip(episodes, THRESHOLDS, strict=True)
        ),
    )
    for episode, (readings, level) in zip(episodes, THRESHOLDS, strict=True):
        current = await _when_checked_in(episode["id"], 1)
        assert current["level"] == level, (readings, current["check_ins"])
        flag = next(r for r in current["resources"] if r["resourceType"] == "Flag")
        assert flag["code"]["coding"][0]["code"] == level
        assert flag["status"] == ("inactive" if level == "green" else "active")
        changes = current["flag_changes"]
        assert [c["to"] for c in changes] == ([] if level == "green" else [level])
        assert all(c["by"] is None for c in changes)  # the rules raised it, nobody by hand


async def test_a_red_flag_starts_a_teleconsult_and_only_the_managing_hospital_lowers_it(
    stack: TestStack, services: ServiceProcesses, sms_gateway: FakeSmsGateway
) -> None:
    episode = await _enrol(consultant=HUB)
    assert episode["check_in_link"].startswith(f"{TELEMEDICINE_URL}/check-in/")
    kinds = {r["resourceType"] for r in episode["resources"]}
    assert kinds == {"EpisodeOfCare", "CarePlan", "CareTeam", "Flag"}
    care_plan = next(r for r in episode["resources"] if r["resourceType"] == "CarePlan")
    assert care_plan["activity"][0]["detail"]["scheduledTiming"]["repeat"]["timeOfDay"] == [
        "08:00:00",
        "18:00:00",
    ]

    # Yellow, then an implausible SpO2 (asked again: it does not count), then red.
    await _send(stack, (episode, _check_in(episode, {"spo2": 95}, sender=HOSPITAL)))
    await _when_checked_in(episode["id"], 1)
    await _send(stack, (episode, _check_in(episode, {"spo2": 101}, sender=HOSPITAL)))
    current = await _when_checked_in(episode["id"], 2)
    assert current["level"] == "yellow"
    assert current["check_ins"][0]["asked_again"] == [{"vital": "spo2", "value": 101.0}]
    await _send(stack, (episode, _check_in(episode, {"respiratory-rate": 28}, sender=HOSPITAL)))
    current = await _when_checked_in(episode["id"], 3)
    assert current["level"] == "red"
    assert [(c["from"], c["to"]) for c in current["flag_changes"]] == [
        ("green", "yellow"),
        ("yellow", "red"),
    ]
    assert current["consults_started"] == 1

    # The red flag started a teleconsult with the hub, which pages its on-call doctor.
    async with httpx.AsyncClient(base_url=TELEMEDICINE_URL, headers=as_hospital(HUB)) as hub:
        (consult,) = (await hub.get("/consults", params={"referral": episode["id"]})).json()
        assert consult["requester"] == HOSPITAL
        assert consult["consultant_hospital"] == HUB

        async def paged() -> list[dict[str, Any]]:
            number = f"66{ON_CALL_PHONE[1:]}"
            return [
                m
                for m in sms_gateway.messages
                if m["to"] == number and "home-isolation" in m["text"]
            ]

        await eventually(paged, what="the on-call doctor paged about the red flag")

        # The hub reads the episode (without the patient's link) but may not lower its flag.
        read = await hub.get(f"/monitoring/episodes/{episode['id']}")
        assert read.status_code == 200
        assert "check_in_link" not in read.json()
        lower = {"level": "yellow", "reason": "seen on video", "by": "Practitioner/dr-on-call"}
        refused = await hub.post(f"/monitoring/episodes/{episode['id']}/flag", json=lower)
        assert refused.status_code == 403, refused.text
        assert refused.json()["resourceType"] == "OperationOutcome"

    # A third hospital learns nothing, not even that the episode exists.
    third = await _episode(episode["id"], THIRD)
    assert third.status_code == 404
    assert third.json()["issue"][0]["code"] == "not-found"

    async with httpx.AsyncClient(base_url=TELEMEDICINE_URL, headers=as_hospital(HOSPITAL)) as api:
        # Raising by hand is refused; lowering needs a reason; then it is lowered, audited.
        up = await api.post(
            f"/monitoring/episodes/{episode['id']}/flag",
            json={**lower, "level": "red"},
        )
        assert up.status_code == 422
        no_reason = await api.post(
            f"/monitoring/episodes/{episode['id']}/flag", json={**lower, "reason": ""}
        )
        assert no_reason.status_code == 422
        nurse = {"level": "yellow", "reason": "SpO2 97 on re-check", "by": "Practitioner/n-sikao"}
        lowered = await api.post(f"/monitoring/episodes/{episode['id']}/flag", json=nurse)
        assert lowered.status_code == 200, lowered.text
        assert lowered.json()["level"] == "yellow"
    audit = (await _episode(episode["id"])).json()["flag_changes"][-1]
    assert (audit["from"], audit["to"], audit["reason"], audit["by"]) == (
        "red",
        "yellow",
        "SpO2 97 on re-check",
        "Practitioner/n-sikao",
    )


async def test_a_hospital_reports_only_its_own_patients_and_bad_enrolments_are_refused(
    stack: TestStack, services: ServiceProcesses
) -> None:
    episode = await _enrol()
    # Another hospital's system reports a check-in for this patient: it is refused.
    await _send(stack, (episode, _check_in(episode, {"spo2": 90}, sender=THIRD)))
    # A check-in of its own afterwards is applied (the refused one was not).
    await _send(stack, (episode, _check_in(episode, {"spo2": 97}, sender=HOSPITAL)))
    current = await _when_checked_in(episode["id"], 1)
    assert len(current["check_ins"]) == 1
    assert current["level"] == "green"

    async with httpx.AsyncClient(base_url=TELEMEDICINE_URL, headers=as_hospital(HOSPITAL)) as api:
        bad = await api.post(
            "/monitoring/episodes", json={"patient": "Mr Somchai", "hospital_number": "1"}
        )
        assert bad.status_code == 422
        assert bad.json()["resourceType"] == "OperationOutcome"
        unknown = await api.post(
            "/monitoring/episodes",
            json={"patient": "Patient/p1", "hospital_number": "HN1", "programme": "nope"},
        )
        assert unknown.status_code == 422
        assert "nope" in unknown.json()["issue"][0]["diagnostics"]
    anonymous = await httpx.AsyncClient().get(f"{TELEMEDICINE_URL}/monitoring/episodes/x")
    assert anonymous.status_code == 401


async def test_a_check_in_links_secret_reaches_no_span_or_log_line(
    services: ServiceProcesses,
) -> None:
    """The link is the patient's only key to their check-in form: whoever reads the traces or the
    logs must not find it there (a request's span keeps its path, less a signed link's secret)."""
    link = (await _enrol())["check_in_link"]
    signature = link.rsplit(".", 1)[1]
    trace_id = secrets.token_hex(16)
    async with httpx.AsyncClient() as phone:
        opened = await phone.get(link, headers={"traceparent": f"00-{trace_id}-{'1' * 16}-01"})
    assert opened.status_code == 200

    async def request_span() -> list[dict[str, Any]]:
        return [
            span
            for span in services.spans("telemedicine")
            if span["context"]["trace_id"] == f"0x{trace_id}"
            and span["name"] == "GET /check-in/{token}"
        ]

    [span] = await eventually(request_span, what="the check-in page's span")
    assert span["attributes"]["url.path"] == "/check-in/{redacted}"
    for written in (services.trace_file("telemedicine"), services.log_file("telemedicine")):
        assert signature not in written.read_text(encoding="utf-8"), written.name


async def test_the_signed_link_opens_only_its_patients_form_in_thai_and_asks_again(
    services: ServiceProcesses,
) -> None:
    episode = await _enrol()
    link = episode["check_in_link"]
    async with httpx.AsyncClient() as phone:
        form = await phone.get(link)
        assert form.status_code == 200
        assert "รายงานอาการ" in form.text
        assert form.headers["cache-control"] == "no-store"
        asked = await phone.post(link, data={"spo2": "150", "temperature": "36,8"})
        assert asked.status_code == 200
        assert "กรุณาวัดซ้ำ" in asked.text
        red = await phone.post(link, data={"spo2": "92", "symptom": ["dyspnoea"]})
        assert "1669" in red.text
        # A forged or altered token opens nothing. The signature's first character is changed:
        # its last carries two bits base64 drops, so "...aaY" altered to "...aaa" was the same
        # signature (a run of the suite met it, about once in 90,000 links).
        head, signature = link.rsplit(".", 1)
        forged = await phone.get(f"{head}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}")
        assert forged.status_code == 404
        other = await phone.get(f"{TELEMEDICINE_URL}/check-in/{episode['id']}")
        assert other.status_code == 404
    current = await _when_checked_in(episode["id"], 2)
    # The temperature counted (SpO2 150 did not), then the red SpO2 and breathlessness.
    assert [c["source"] for c in current["check_ins"]] == ["link", "link"]
    assert current["check_ins"][1]["readings"] == [
        {"vital": "spo2", "value": 150.0},
        {"vital": "temperature", "value": 36.8},
    ]
    assert current["level"] == "red"


async def test_a_missed_check_in_reminds_the_patient_on_line_then_alerts_the_nurses(
    services: ServiceProcesses, line_platform: FakeLineState, webhook: WebhookReceiver
) -> None:
    line_user = f"Upatient{uuid.uuid4().hex[:12]}"
    episode = await _enrol(
        line_user=line_user,
        phone="0899999999",
        first_check_in=datetime.now(UTC).isoformat(),
    )

    async def reminded() -> list[Any]:
        return [p for p in line_platform.pushes if p.to == line_user]

    (push,) = await eventually(reminded, what="the patient's LINE reminder", timeout=60)
    text = json.dumps(push.messages, ensure_ascii=False)
    assert "/check-in/" in text  # the patient's own link
    assert episode["hospital_number"] not in text  # nothing that names the patient
    replies = {
        item["action"]["data"]: item["action"]["label"]
        for item in push.messages[0]["quickReply"]["items"]
    }
    breathless = f"check-in:{episode['id']}:dyspnoea"
    assert breathless in replies

    async def alerted() -> list[Any]:
        return [
            n for n in webhook.for_referral(episode["id"]) if "missed a check-in" in n.body["text"]
        ]

    (alert,) = await eventually(alerted, what="the nurses alerted of the missed check-in")
    assert episode["hospital_number"] in alert.body["text"]
    current = (await _episode(episode["id"])).json()
    assert current["missed"] is True

    # The patient taps "short of breath" in LINE: LINE posts it to the notifier's webhook
    # (twice: LINE redelivers), someone else's tap with the same data is not taken.
    async def tap(user: str, event_id: str) -> None:
        body = json.dumps(
            {
                "destination": "Ubot",
                "events": [
                    {
                        "type": "postback",
                        "webhookEventId": event_id,
                        "timestamp": int(datetime.now(UTC).timestamp() * 1000),
                        "source": {"type": "user", "userId": user},
                        "postback": {"data": breathless},
                    }
                ],
            }
        ).encode()
        async with httpx.AsyncClient(base_url=NOTIFIER_URL) as notifier:
            answer = await notifier.post(
                "/line/webhook",
                content=body,
                headers={"X-Line-Signature": sign(body, LINE_SECRET)},
            )
        assert answer.status_code == 200, answer.text

    await tap("Usomeone-else", "01HSOMEONEELSE" + uuid.uuid4().hex[:8])
    tapped = "01HPATIENT" + uuid.uuid4().hex[:8]
    await tap(line_user, tapped)
    await tap(line_user, tapped)
    current = await _when_checked_in(episode["id"], 1)
    assert [(c["source"], c["symptoms"]) for c in current["check_ins"]] == [("line", ["dyspnoea"])]
    assert current["level"] == "red"
    assert current["missed"] is False  # the check-in counted: the next one is due later


async def test_the_purge_erases_an_old_episodes_check_ins_and_contacts(
    stack: TestStack, services: ServiceProcesses
) -> None:
    episode = await _enrol(line_user=f"Upurge{uuid.uuid4().hex[:10]}", phone="0811112222")
    async with httpx.AsyncClient() as phone:
        assert (await phone.post(episode["check_in_link"], data={"spo2": "93"})).status_code == 200
    pool = await create_pool(stack.database_url, schema="telemedicine", max_size=2)
    try:
        a_year_ago = datetime.now(UTC) - timedelta(days=365)
        for table, column in (
            ("monitoring_episode", "started_at"),
            ("monitoring_check_in", "received_at"),
            ("monitoring_level_change", "changed_at"),
        ):
            key = "id" if table == "monitoring_episode" else "episode_id"
            await pool.execute(
                f"UPDATE {table} SET {column} = $2 WHERE {key} = $1",  # noqa: S608 - names above
                episode["id"],
                a_year_ago,
            )
        await purge(pool, PURGE_MONITORING, cutoff=datetime.now(UTC) - timedelta(days=180))
        row = await pool.fetchrow(
            "SELECT hospital_number, line_user, phone, level FROM monitoring_episode WHERE id = $1",
            episode["id"],
        )
        reasons = await pool.fetch(
            "SELECT reason FROM monitoring_level_change WHERE episode_id = $1", episode["id"]
        )
        check_ins = await pool.fetchval(
            "SELECT count(*) FROM monitoring_check_in WHERE episode_id = $1", episode["id"]
        )
    finally:
        await pool.close()
    assert row is not None
    assert (row["hospital_number"], row["line_user"], row["phone"]) == ("", None, None)
    assert row["level"] == 2  # the level and its time stay for the figures
    assert [r["reason"] for r in reasons] == [""]
    assert check_ins == 0


async def test_the_managing_hospital_ends_an_episode_and_nothing_reaches_the_patient_after(
    stack: TestStack, services: ServiceProcesses
) -> None:
    episode = await _enrol(consultant=HUB)
    finish = {"reason": "admitted", "by": "Practitioner/n-sikao"}
    path = f"/monitoring/episodes/{episode['id']}/finish"
    async with httpx.AsyncClient(base_url=TELEMEDICINE_URL, headers=as_hospital(HUB)) as hub:
        # The consultant hospital reads the episode but does not end it; a third learns nothing.
        assert (await hub.post(path, json=finish)).status_code == 403
    async with httpx.AsyncClient(base_url=TELEMEDICINE_URL, headers=as_hospital(THIRD)) as third:
        assert (await third.post(path, json=finish)).status_code == 404
    async with httpx.AsyncClient(base_url=TELEMEDICINE_URL, headers=as_hospital(HOSPITAL)) as api:
        # A reason is a code, never the patient's story.
        story = await api.post(path, json={**finish, "reason": "moved to her daughter's"})
        assert story.status_code == 422
        assert story.json()["resourceType"] == "OperationOutcome"
        ended = await api.post(path, json=finish)
        assert ended.status_code == 200, ended.text
        assert ended.json()["finished"] is True
        assert ended.json()["finish_reason"] == "admitted"
        assert ended.json()["finished_by"] == "Practitioner/n-sikao"
        # Sent again (a retry), it answers the episode as it was first finished.
        again = await api.post(path, json={**finish, "reason": "completed"})
        assert again.json()["finished_at"] == ended.json()["finished_at"]
        assert again.json()["finish_reason"] == "admitted"
        lower = {"level": "green", "reason": "well", "by": "Practitioner/n-sikao"}
        refused = await api.post(f"/monitoring/episodes/{episode['id']}/flag", json=lower)
        assert refused.status_code == 409
        assert "has ended" in refused.json()["issue"][0]["diagnostics"]

    read = (await _episode(episode["id"])).json()
    resources = {r["resourceType"]: r for r in read["resources"]}
    assert resources["EpisodeOfCare"]["status"] == "finished"
    ended_at = datetime.fromisoformat(ended.json()["finished_at"])
    assert datetime.fromisoformat(resources["EpisodeOfCare"]["period"]["end"]) == ended_at
    assert resources["CarePlan"]["status"] == "completed"
    # The patient's link opens nothing now, and a hospital system's check-in is refused with
    # its reason on the dead-letter topic.
    async with httpx.AsyncClient() as phone:
        assert (await phone.get(episode["check_in_link"])).status_code == 404
    await _send(stack, (episode, _check_in(episode, {"spo2": 88}, sender=HOSPITAL)))
    reason = await dead_letter_reason(stack, HOSPITAL_INBOUND.name, episode["id"])
    assert "has ended" in reason
    assert (await _episode(episode["id"])).json()["check_ins"] == []
