"""A referral written from the FHIR specification, as a hospital's own system writes it, is
accepted the first time: urn:uuid fullUrls and references, the hospital's own patient identifier
system (declared in the directory), last known well as the stroke Condition's onset or as the
project's Observation; and its last known well drives the referral's windows."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.test_hospital_lifecycle import HospitalSystem
from tests.support import TestStack, referral_bundle

pytestmark = pytest.mark.e2e

FHIR_JSON = {"Content-Type": "application/fhir+json"}
# Sikao's own hospital-number system, as deploy/demo/directory.json declares it.
SIKAO_HN = "https://his.sikao-hospital.example/fhir/sid/hn"
THROMBOLYSIS_MINUTES = 270


def _from_the_spec(lkw: datetime, *, source: str) -> tuple[dict[str, Any], str]:
    """The example rewritten: urn:uuid everywhere, Sikao's identifier system, LKW from
    ``source`` ("condition" or "observation")."""
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    entries = bundle["entry"]
    if source == "condition":
        entries[:] = [e for e in entries if not e["resource"]["id"].startswith("lkw-")]
        entries.append(
            {
                "fullUrl": "",
                "resource": {
                    "resourceType": "Condition",
                    "id": "stroke",
                    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "422504002"}]},
                    "subject": {"reference": ""},
                    "onsetDateTime": lkw.isoformat(),
                },
            }
        )
    else:
        lkw_entry = next(e for e in entries if e["resource"]["id"].startswith("lkw-"))
        lkw_entry["resource"]["effectiveDateTime"] = lkw.isoformat()
    for entry in entries:
        resource = entry["resource"]
        if resource["resourceType"] == "Patient":
            resource["identifier"] = [{"system": SIKAO_HN, "value": "0099123"}]
    urls: dict[str, str] = {}
    for entry in entries:
        relative = f"{entry['resource']['resourceType']}/{entry['resource']['id']}"
        urls[relative] = str(uuid.uuid4())
        entry["fullUrl"] = f"urn:uuid:{urls[relative]}"
    text = json.dumps(bundle)
    for relative, new in urls.items():
        text = text.replace(f'"reference": "{relative}"', f'"reference": "urn:uuid:{new}"')
    patient = next(k for k in urls if k.startswith("Patient/"))
    text = text.replace('"reference": ""', f'"reference": "urn:uuid:{urls[patient]}"')
    return json.loads(text), referral_id


@pytest.mark.parametrize("source", ["condition", "observation"])
async def test_a_referral_from_the_spec_is_accepted_and_its_lkw_drives_the_windows(
    referral_api: httpx.AsyncClient, source: str
) -> None:
    lkw = (datetime.now(UTC) - timedelta(minutes=30)).replace(microsecond=0)
    bundle, referral_id = _from_the_spec(lkw, source=source)
    assert "Task/" not in json.dumps(bundle["entry"][0]["resource"]["focus"])
    answer = await referral_api.post("/fhir/$process-message", json=bundle, headers=FHIR_JSON)
    assert answer.status_code == 200, answer.text
    detail = (await referral_api.get(f"/referrals/{referral_id}")).json()
    thrombolysis = next(w for w in detail["windows"] if w["code"] == "thrombolysis")
    assert THROMBOLYSIS_MINUTES - 32 < thrombolysis["minutes_left"] <= THROMBOLYSIS_MINUTES - 29


async def test_over_kafka_a_sender_given_by_absolute_url_gets_its_answer_on_its_own_topic(
    stack: TestStack,
) -> None:
    bundle, referral_id = _from_the_spec(
        datetime.now(UTC) - timedelta(minutes=20), source="observation"
    )
    text = json.dumps(bundle).replace(
        '"Organization/', '"https://fasttrack.example.org/fhir/Organization/'
    )
    message_id = bundle["entry"][0]["resource"]["id"]
    async with HospitalSystem(stack) as his:
        await his.send(json.loads(text), referral_id)
        answer = await his.answer_to(message_id)
    assert answer["entry"][0]["resource"]["response"]["code"] == "ok"
