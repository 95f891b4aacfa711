"""Consult first, across the services as processes: a spoke asks the hub's consultant before any
referral (FHIR over REST, or its Kafka topic); the on-call consultant is paged as for a
referral's consult; only the two hospitals read the consult; the consultant's signed advice to
transfer makes the referral from what the spoke sent, linked both ways, with the consult's
earlier steps on its timeline, once however often the advice arrives; advice to treat locally
makes none."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from services.telemedicine.domain.first_consult import first_consult_id
from shared.messaging.topics import TELEMEDICINE_EVENTS, hospital_inbound
from tests.e2e.harness import (
    NOTIFIER_URL,
    TELEMEDICINE_URL,
    ServiceProcesses,
    WebhookReceiver,
    wait_until_consumed,
)
from tests.e2e.recommendations import signed_recommendation
from tests.support import TestStack, as_hospital, as_person, eventually

pytestmark = pytest.mark.e2e

SPOKE, HUB, THIRD = "sikao-hospital", "trang-hospital", "palian-hospital"
FHIR_JSON = {"Content-Type": "application/fhir+json"}
CANONICAL = "https://fasttrack.example.org/fhir"
HN_SYSTEM = f"{CANONICAL}/NamingSystem/hospital-number"


def consult_request(
    *,
    hub: str = HUB,
    hospital_number: str | None = "HN-7788",
    spoke: str = SPOKE,
    sender: str | None = None,
) -> tuple[dict[str, Any], str]:
    """A spoke system's teleconsult-requested with no referral: (bundle, its Task id); sent by
    the spoke unless ``sender`` says otherwise."""
    task_id = f"his-tc-{uuid.uuid4().hex[:12]}"
    now = datetime.now(UTC)
    base = "https://his.sikao-hospital.example/fhir"

    def entry(resource: dict[str, Any]) -> dict[str, Any]:
        return {
            "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
            "resource": resource,
        }

    resources: list[dict[str, Any]] = [
        {
            "resourceType": "Task",
            "id": task_id,
            "status": "requested",
            "intent": "order",
            "priority": "stat",
            "focus": {"reference": f"ServiceRequest/{task_id}"},
            "for": {"reference": "Patient/pt-1"},
            "authoredOn": now.isoformat(),
            "requester": {"reference": f"Organization/{spoke}"},
            "owner": {"reference": f"Organization/{hub}"},
        },
        {
            "resourceType": "ServiceRequest",
            "id": task_id,
            "status": "active",
            "intent": "order",
            "category": [
                {
                    "coding": [
                        {
                            "system": f"{CANONICAL}/CodeSystem/service-category",
                            "code": "teleconsult",
                        }
                    ]
                }
            ],
            "subject": {"reference": "Patient/pt-1"},
            "note": [{"text": "Right hemiparesis and aphasia, CT pending: lyse or transfer?"}],
        },
        {
            "resourceType": "Patient",
            "id": "pt-1",
            **(
                {"identifier": [{"system": HN_SYSTEM, "value": hospital_number}]}
                if hospital_number
                else {}
            ),
        },
        {
            "resourceType": "Observation",
            "id": "lkw-1",
            "status": "final",
            "code": {
                "coding": [{"system": f"{CANONICAL}/CodeSystem/stroke-observation", "code": "lkw"}]
            },
            "subject": {"reference": "Patient/pt-1"},
            "effectiveDateTime": (now - timedelta(minutes=80)).isoformat(),
        },
        {
            "resourceType": "Encounter",
            "id": "er-1",
            "status": "in-progress",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "EMER"},
            "subject": {"reference": "Patient/pt-1"},
            "period": {"start": (now - timedelta(minutes=9)).isoformat()},
            "serviceProvider": {"reference": f"Organization/{spoke}"},
        },
    ]
    entries = [entry(r) for r in resources]
    header = {
        "fullUrl": f"urn:uuid:{uuid.uuid4()}",
        "resource": {
            "resourceType": "MessageHeader",
            "id": str(uuid.uuid4()),
            "eventCoding": {
                "system": f"{CANONICAL}/CodeSystem/event",
                "code": "teleconsult-requested",
            },
            "source": {"endpoint": f"{base}"},
            "sender": {"reference": f"Organization/{sender or spoke}"},
            "focus": [{"reference": entries[0]["fullUrl"]}],
        },
    }
    bundle = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "message",
        "timestamp": now.isoformat(),
        "entry": [header, *entries],
    }
    return bundle, task_id


async def consult_page(consult_id: str, hospital: str) -> str:
    async with httpx.AsyncClient(base_url=TELEMEDICINE_URL) as web:
        shown = await web.get(f"/app/consults/{consult_id}", headers=as_person(hospital, "dr-x"))
    assert shown.status_code == 200, shown.text
    return shown.text


async def ask(bundle: dict[str, Any]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=TELEMEDICINE_URL, headers=as_hospital(SPOKE)) as api:
        return await api.post("/fhir/$process-message", json=bundle, headers=FHIR_JSON)


async def consult_listed_by(hospital: str, consult_id: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=TELEMEDICINE_URL, headers=as_hospital(hospital)) as api:
        return await api.get(f"/consults/{consult_id}")


async def asked_consult() -> str:
    """A consult asked first over REST, accepted by the hub: its id."""
    bundle, _ = consult_request()
    answered = await ask(bundle)
    assert answered.status_code == 200, answered.text
    (focus,) = [
        e["resource"] for e in answered.json()["entry"] if e["resource"]["resourceType"] == "Task"
    ]
    consult_id = str(focus["id"])
    async with httpx.AsyncClient(base_url=TELEMEDICINE_URL, headers=as_hospital(HUB)) as hub:
        accepted = await hub.post(
            f"/consults/{consult_id}/steps",
            json={"stage": "accepted", "by": "Practitioner/dr-trang-neuro"},
        )
        assert accepted.status_code == 200, accepted.text
    return consult_id


def transfer_to(centre: str) -> dict[str, Any]:
    """Advice to transfer the patient to ``centre`` for thrombectomy, without thrombolysis."""
    return {
        "decision": "do-not-give",
        "drug": None,
        "thrombectomy_transfer": True,
        "target_centre": centre,
    }


async def sign(consult_id: str, **changes: Any) -> None:
    async with httpx.AsyncClient(base_url=TELEMEDICINE_URL, headers=as_hospital(HUB)) as hub:
        signed = await hub.post(
            f"/consults/{consult_id}/recommendations", json=signed_recommendation(**changes)
        )
    assert signed.status_code == 201, signed.text


async def test_a_consult_asked_first_pages_the_on_call_consultant_and_only_its_hospitals_read_it(
    services: ServiceProcesses,
) -> None:
    bundle, _ = consult_request()
    answered = await ask(bundle)
    assert answered.status_code == 200, answered.text
    (focus,) = [
        e["resource"] for e in answered.json()["entry"] if e["resource"]["resourceType"] == "Task"
    ]
    consult_id = focus["id"]
    assert "partOf" not in focus  # no referral (yet)
    # Sent again (a retry), it is the same consult.
    again = await ask(bundle | {"id": str(uuid.uuid4())})
    assert again.status_code == 200, again.text

    consult = (await consult_listed_by(HUB, consult_id)).json()
    assert (consult["requester"], consult["consultant_hospital"]) == (SPOKE, HUB)
    assert (consult["asked_first"], consult["referral"]) == (True, None)
    assert consult["stage"] == "paging"
    assert [(s["stage"], s["rung"]) for s in consult["steps"]] == [("paging", 0)]
    # The hub's on-call consultant is paged through the notifier, as for a referral's consult.
    async with httpx.AsyncClient(base_url=NOTIFIER_URL, headers=as_hospital(HUB)) as notifier:

        async def paged() -> list[dict[str, Any]]:
            log = (await notifier.get("/deliveries", params={"referral": consult_id})).json()
            return [
                d for d in log if d["addressed_to"] == f"PractitionerRole/{HUB}.stroke-neurologist"
            ]

        await eventually(paged, what="the page to the hub's on-call consultant")
    # In the hub's queue (to answer) and the spoke's; a third hospital learns nothing of it.
    async with httpx.AsyncClient(base_url=TELEMEDICINE_URL) as web:
        for hospital, listed in ((HUB, True), (SPOKE, True), (THIRD, False)):
            queue = await web.get("/app/consults/", headers=as_person(hospital, "dr-q"))
            assert (f'data-consult="{consult_id}"' in queue.text) is listed, hospital
    assert (await consult_listed_by(SPOKE, consult_id)).status_code == 200
    third = await consult_listed_by(THIRD, consult_id)
    assert third.status_code == 404
    assert third.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize(
    ("bundle_changes", "status", "expression"),
    [
        ({"hospital_number": None}, 422, "Patient.identifier"),
        ({"hub": SPOKE}, 422, "Task.owner"),
        ({"sender": "kantang-hospital"}, 403, "MessageHeader.sender"),
    ],
)
async def test_a_consult_request_that_cannot_be_acted_on_is_refused_with_an_operation_outcome(
    services: ServiceProcesses, bundle_changes: dict[str, Any], status: int, expression: str
) -> None:
    bundle, _ = consult_request(**bundle_changes)
    answered = await ask(bundle)
    assert answered.status_code == status, answered.text
    outcome = answered.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert expression in outcome["issue"][0].get("expression", [""])[0]


async def test_advice_to_transfer_makes_the_referral_linked_with_the_consults_steps_once(
    services: ServiceProcesses,
    stack: TestStack,
    database: asyncpg.Pool,
    referral_api: httpx.AsyncClient,
) -> None:
    consult_id = await asked_consult()
    # To the hub itself, for thrombectomy (the spoke has no thrombectomy).
    await sign(consult_id, **transfer_to(HUB))

    async def linked() -> dict[str, Any] | None:
        consult: dict[str, Any] = (await consult_listed_by(SPOKE, consult_id)).json()
        return consult if consult["referral"] else None

    consult = await eventually(linked, what="the consult linked to its referral")
    referral_id = consult["referral"]
    referral = (await referral_api.get(f"/referrals/{referral_id}")).json()
    assert (referral["requester"], referral["owner"], referral["status"]) == (
        SPOKE,
        HUB,
        "requested",
    )
    assert referral["teleconsult_requested"] is False  # it asks for no second consult
    timeline = referral["timeline"]
    (requested,) = [e for e in timeline if e["event"] == "referral-requested"]
    assert requested["detail"]["from_consult"] == consult_id
    # The consult's steps from before the referral existed are on its timeline, in order.
    consult_steps = [
        (e["event"], e["detail"].get("stage"))
        for e in timeline
        if e["event"].startswith("teleconsult-") and e["detail"].get("consult") == consult_id
    ]
    assert consult_steps[0] == ("teleconsult-requested", "requested")
    assert ("teleconsult-updated", "accepted") in consult_steps
    assert consult_steps[-1] == ("teleconsult-recommended", "recommended")
    # The spoke's door-in came with the consult: door-to-request counts for the referral.
    (door,) = [m for m in referral["milestones"] if m["code"] == "door-in-first"]
    assert door["hospital"] == SPOKE
    # The referral Task is based on the consult's Task (the network's event says so).
    row = await database.fetchrow(
        """SELECT payload FROM referral.outbox
            WHERE message_key = $1 AND event_code = 'referral-requested'""",
        referral_id,
    )
    assert row is not None
    sent = json.loads(bytes(row["payload"]))
    (task,) = [
        e["resource"]
        for e in sent["entry"]
        if e["resource"]["resourceType"] == "Task" and e["resource"]["id"] == referral_id
    ]
    assert task["basedOn"] == [{"reference": f"Task/{consult_id}"}]
    # Both hospitals' consult pages link the referral.
    for hospital in (SPOKE, HUB):
        assert f'href="/app/referrals/{referral_id}"' in await consult_page(consult_id, hospital)
    # A third hospital reads neither.
    third = await referral_api.get(f"/referrals/{referral_id}", headers=as_hospital(THIRD))
    assert third.status_code in (403, 404)

    # The recommendation delivered again, as a relay retry would (the same message), and as a
    # copy with a new message id: no second referral.
    recommended = await database.fetchrow(
        """SELECT message_id, payload FROM telemedicine.outbox
            WHERE message_key = $1 AND event_code = 'teleconsult-recommended'""",
        consult_id,
    )
    assert recommended is not None
    copy = json.loads(bytes(recommended["payload"]))
    copy_id = str(uuid.uuid4())
    copy["entry"][0]["resource"]["id"] = copy_id
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap_servers, enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(
            TELEMEDICINE_EVENTS.name,
            bytes(recommended["payload"]),
            key=consult_id.encode(),
            headers=[("message-id", recommended["message_id"].encode())],
        )
        last = await producer.send_and_wait(
            TELEMEDICINE_EVENTS.name,
            json.dumps(copy).encode(),
            key=consult_id.encode(),
            headers=[("message-id", copy_id.encode())],
        )
    finally:
        await producer.stop()
    await wait_until_consumed(stack, "fasttrack-referral", last.topic, last.partition, last.offset)
    made = await database.fetchval(
        """SELECT count(*) FROM referral.timeline_entry
            WHERE event_code = 'referral-requested' AND detail->>'from_consult' = $1""",
        consult_id,
    )
    assert made == 1


async def test_advice_to_treat_locally_makes_no_referral(
    services: ServiceProcesses, database: asyncpg.Pool
) -> None:
    consult_id = await asked_consult()
    await sign(consult_id)  # give alteplase here, no transfer

    async def kept() -> int | None:
        count: int = await database.fetchval(
            """SELECT count(*) FROM referral.consult_first_step
                WHERE consult_id = $1 AND event_code = 'teleconsult-recommended'""",
            consult_id,
        )
        return count or None

    await eventually(kept, what="the recommendation kept with the consult's steps")
    row = await database.fetchrow(
        "SELECT referral_id, outcome FROM referral.consult_first WHERE consult_id = $1",
        consult_id,
    )
    assert row is not None
    assert (row["referral_id"], row["outcome"]) == (None, None)
    consult = (await consult_listed_by(SPOKE, consult_id)).json()
    assert (consult["stage"], consult["referral"]) == ("recommended", None)
    for hospital in (SPOKE, HUB):
        assert "the advice is to treat the patient here" in await consult_page(consult_id, hospital)


async def test_a_spoke_system_asks_a_consult_first_on_its_kafka_topic(
    services: ServiceProcesses, stack: TestStack
) -> None:
    bundle, task_id = consult_request()
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap_servers, enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(
            hospital_inbound(SPOKE).name, json.dumps(bundle).encode(), key=task_id.encode()
        )
    finally:
        await producer.stop()
    consult_id = first_consult_id(requester_org=SPOKE, request_id=task_id)

    async def opened() -> dict[str, Any] | None:
        answer = await consult_listed_by(HUB, consult_id)
        return answer.json() if answer.status_code == 200 else None

    consult = await eventually(opened, what="the consult asked on Kafka")
    assert (consult["asked_first"], consult["requester"]) == (True, SPOKE)


async def test_advice_to_transfer_to_an_unknown_centre_tells_the_spoke_to_refer_by_hand(
    services: ServiceProcesses, database: asyncpg.Pool, webhook: WebhookReceiver
) -> None:
    consult_id = await asked_consult()
    await sign(consult_id, **transfer_to("nowhere-hospital"))

    async def told() -> list[str] | None:
        texts = [n.body["text"] for n in webhook.for_referral(consult_id)]
        return [t for t in texts if "refer the patient yourself" in t] or None

    (text,) = await eventually(told, what="the spoke told the referral was not made")
    assert "nowhere-hospital" in text
    row = await database.fetchrow(
        "SELECT referral_id, outcome FROM referral.consult_first WHERE consult_id = $1",
        consult_id,
    )
    assert row is not None
    assert row["referral_id"] is None
    assert row["outcome"].startswith("not started")
    consult = (await consult_listed_by(SPOKE, consult_id)).json()
    assert (consult["stage"], consult["referral"]) == ("recommended", None)


async def test_a_consult_asked_of_a_hub_nobody_can_reach_fails_over_in_seconds(
    services: ServiceProcesses, webhook: WebhookReceiver
) -> None:
    # A directory hospital with no roster in the notifier (webhook only) whose webhook endpoint
    # refuses its pages for good: nobody can be reached there. (A misspelt hub is refused before
    # anyone is paged: the test below.)
    unknown = "na-yong-hospital"
    webhook.refuse_recipients.add(f"Organization/{unknown}")
    try:
        bundle, _ = consult_request(hub=unknown)
        answered = await ask(bundle)
        assert answered.status_code == 200, answered.text
        (task,) = [
            e["resource"]
            for e in answered.json()["entry"]
            if e["resource"]["resourceType"] == "Task"
        ]
        consult_id = str(task["id"])

        async def failed() -> dict[str, Any] | None:
            consult: dict[str, Any] = (await consult_listed_by(SPOKE, consult_id)).json()
            return consult if consult["stage"] == "failed" else None

        consult = await eventually(failed, what="the consult to fail to connect", timeout=90)
    finally:
        webhook.refuse_recipients.discard(f"Organization/{unknown}")
    assert [s["rung"] for s in consult["steps"] if s["stage"] == "paging"] == [0, 1, 2]
    requested = datetime.fromisoformat(consult["requested_at"])
    waited = (datetime.fromisoformat(consult["steps"][-1]["at"]) - requested).total_seconds()
    assert waited < 60, waited  # not at the ladder's 15 minutes

    # The spoke was told to call the hub (its system gets its alerts by webhook).
    async def told() -> list[str] | None:
        texts = [n.body["text"] for n in webhook.for_referral(consult_id)]
        return [t for t in texts if "Call the hub" in t] or None

    await eventually(told, what="the spoke told the consult failed to connect")


async def test_a_consult_asked_of_a_hospital_not_in_the_directory_is_refused_and_nobody_paged(
    services: ServiceProcesses, webhook: WebhookReceiver
) -> None:
    # Telemedicine keeps the directory the referral service published when it was loaded.
    typo = "trnag-hospital"
    webhook.refuse_recipients.add(f"Organization/{typo}")
    try:
        bundle, _ = consult_request(hub=typo)

        async def refused() -> httpx.Response | None:
            answered = await ask(bundle)
            return answered if answered.status_code == 422 else None

        answered = await eventually(refused, what="the misspelt hub refused", timeout=60)
    finally:
        webhook.refuse_recipients.discard(f"Organization/{typo}")
    outcome = answered.json()
    assert outcome["resourceType"] == "OperationOutcome"
    issue = outcome["issue"][0]
    assert "Task.owner" in issue.get("expression", [""])[0]
    assert "not a hospital of the network's directory" in str(issue), issue

    # A hub the directory lists is paged as before.
    known, _ = consult_request()
    assert (await ask(known)).status_code == 200
