"""How sure a clinical time is, and where it happened, read from what hospitals send
(the time-uncertain and time-source extensions the README documents for clinical times)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.referral.adapters.clinical_resources import reported_from_clock
from services.referral.adapters.fhir_inbound import change_from_message, request_from_message
from services.referral.adapters.fhir_mapping import referral_requested_message
from services.referral.adapters.notification_texts import stroke_team_alert
from services.referral.domain.clock import Milestone, TimeSource
from services.referral.domain.commands import ReportedTime
from services.referral.domain.errors import InvalidReferral
from shared.fhir.envelope import parse_message
from shared.fhir.models import CommunicationRequest
from shared.fhir.notifications import payload_texts
from shared.vocabulary.milestones import MilestoneCode

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "referral-requested.json"
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
CANON = "https://fasttrack.example.org/fhir/StructureDefinition"
UNCERTAIN = {"url": f"{CANON}/time-uncertain", "valueBoolean": True}
ESTIMATED = {"url": f"{CANON}/time-source", "valueCode": "estimated"}
DEVICE = {"url": f"{CANON}/time-source", "valueCode": "device"}
LKW_0840 = datetime(2026, 11, 23, 1, 40, tzinfo=UTC)


def _example() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return document


def _lkw(document: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = next(
        e["resource"] for e in document["entry"] if e["resource"].get("id", "").startswith("lkw-")
    )
    return found


def _on_resource(*extensions: dict[str, Any]) -> Any:
    return lambda lkw: lkw.update(extension=list(extensions))


def _on_element(*extensions: dict[str, Any]) -> Any:
    return lambda lkw: lkw.update(_effectiveDateTime={"extension": list(extensions)})


def _as_period(lkw: dict[str, Any]) -> None:
    lkw["effectivePeriod"] = {
        "start": lkw.pop("effectiveDateTime"),
        "end": "2026-11-23T09:10:00+07:00",
    }


def _as_condition_onset(document: dict[str, Any]) -> None:
    lkw = _lkw(document)
    document["entry"] = [e for e in document["entry"] if e["resource"] is not lkw]
    document["entry"].append(
        {
            "fullUrl": "urn:uuid:7d1c0b8e-3a55-4c8f-9d61-1f0a7c2b9e01",
            "resource": {
                "resourceType": "Condition",
                "id": "stroke-1",
                "subject": {"reference": "Patient/p-example-referral-0001"},
                "code": {"text": "ischemic stroke"},
                "onsetDateTime": lkw["effectiveDateTime"],
                "extension": [ESTIMATED],
            },
        }
    )


# case -> (change to the example's LKW Observation, expected (source, uncertain))
LKW_CASES: dict[str, tuple[Any, tuple[str, bool]]] = {
    "witnessed-onset-is-certain": (lambda lkw: None, ("recorded", False)),
    "uncertain-on-the-resource": (_on_resource(UNCERTAIN), ("recorded", True)),
    "estimated-on-the-resource": (_on_resource(ESTIMATED), ("estimated", True)),
    "wake-up-stroke-both-extensions": (_on_resource(UNCERTAIN, ESTIMATED), ("estimated", True)),
    "estimated-on-the-time-element": (_on_element(ESTIMATED), ("estimated", True)),
    "uncertain-on-the-time-element": (_on_element(UNCERTAIN), ("recorded", True)),
    "device-time-is-certain": (_on_resource(DEVICE), ("device", False)),
    "a-period-of-well-is-uncertain": (_as_period, ("recorded", True)),
}


@pytest.mark.parametrize(("mutate", "expected"), LKW_CASES.values(), ids=LKW_CASES.keys())
def test_last_known_well_keeps_how_sure_it_is(mutate: Any, expected: tuple[str, bool]) -> None:
    document = _example()
    mutate(_lkw(document))
    request = request_from_message(parse_message(document), now=NOW)
    assert request.last_known_well == LKW_0840
    assert (request.lkw_source, request.lkw_uncertain) == expected


def test_a_stroke_conditions_estimated_onset_is_an_uncertain_last_known_well() -> None:
    document = _example()
    _as_condition_onset(document)
    request = request_from_message(parse_message(document), now=NOW)
    assert (request.last_known_well, request.lkw_source, request.lkw_uncertain) == (
        LKW_0840,
        "estimated",
        True,
    )


def test_an_unknown_time_source_is_refused_not_taken_as_recorded() -> None:
    document = _example()
    _lkw(document)["extension"] = [{"url": f"{CANON}/time-source", "valueCode": "guessed"}]
    with pytest.raises(InvalidReferral, match="time-source must be one of") as refused:
        request_from_message(parse_message(document), now=NOW)
    assert refused.value.expression == "Observation.effectiveDateTime"


def test_an_estimated_lkw_travels_on_to_the_next_hospital_and_into_the_stroke_page() -> None:
    document = _example()
    _lkw(document)["extension"] = [UNCERTAIN, ESTIMATED]
    request = request_from_message(parse_message(document), now=NOW)
    again = request_from_message(
        referral_requested_message(request, source_endpoint="urn:t"), now=NOW
    )
    assert (again.lkw_source, again.lkw_uncertain) == ("estimated", True)
    page = stroke_team_alert(
        request, requester_name="Sikao", referral_url="https://x/r", source_endpoint="urn:t"
    )
    texts = payload_texts(page.focus_resource(CommunicationRequest))  # type: ignore[arg-type]
    assert "LKW about 08:40 on 23 Nov 2026 (Bangkok time), estimated" in texts["en"]
    assert "ปกติครั้งสุดท้ายประมาณ 23 พ.ย. 2569 เวลา 08:40 น. (เวลาโดยประมาณ)" in texts["th"]


def _update(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "message",
        "entry": [
            {
                "fullUrl": "urn:uuid:0b7f1f9e-42c4-4a35-8f3e-5c1d2e3f4a5b",
                "resource": {
                    "resourceType": "MessageHeader",
                    "id": "0b7f1f9e-42c4-4a35-8f3e-5c1d2e3f4a5b",
                    "eventCoding": {
                        "system": "https://fasttrack.example.org/fhir/CodeSystem/event",
                        "code": "clinical-update",
                    },
                    "sender": {"reference": "Organization/trang-hospital"},
                    "source": {"endpoint": "urn:test"},
                    "focus": [{"reference": "Task/r-1"}],
                },
            },
            {
                "fullUrl": "urn:uuid:1c8e2a0f-53d5-4b46-9a4f-6d2e3f4a5b6c",
                "resource": {
                    "resourceType": "Task",
                    "id": "r-1",
                    "status": "in-progress",
                    "intent": "order",
                },
            },
            *(
                {"fullUrl": f"urn:uuid:2d9f3b1a-64e6-4c57-8b5a-7e3f4a5b6c{n:02d}", "resource": r}
                for n, r in enumerate(resources)
            ),
        ],
    }


NEEDLE = {
    "resourceType": "MedicationAdministration",
    "id": "rtpa",
    "status": "completed",
    "medicationCodeableConcept": {"text": "alteplase"},
    "subject": {"reference": "Patient/p"},
    "effectiveDateTime": "2026-11-23T10:20:00+07:00",
}


def _times(*resources: dict[str, Any]) -> list[ReportedTime]:
    return list(change_from_message(parse_message(_update(*resources)), now=NOW).reported_times)


def test_a_needle_names_the_hospital_that_gave_it_and_otherwise_leaves_it_to_the_sender() -> None:
    given_at_sikao = {**NEEDLE, "performer": [{"actor": {"reference": "Organization/sikao"}}]}
    assert [t.hospital for t in _times(given_at_sikao)] == ["sikao"]
    assert [t.hospital for t in _times(NEEDLE)] == [None]


def test_a_hospital_named_by_an_absolute_reference_is_the_same_hospital() -> None:
    absolute = "https://his.sikao.example/fhir/Organization/sikao"
    given_at_sikao = {**NEEDLE, "performer": [{"actor": {"reference": absolute}}]}
    assert [t.hospital for t in _times(given_at_sikao)] == ["sikao"]


def test_a_door_in_names_its_hospital_by_service_provider_or_location() -> None:
    ward = {
        "resourceType": "Location",
        "id": "er-trang",
        "managingOrganization": {"reference": "Organization/trang"},
    }
    by_location = {
        "resourceType": "Encounter",
        "id": "e1",
        "status": "in-progress",
        "class": {"code": "EMER"},
        "period": {"start": "2026-11-23T10:00:00+07:00"},
        "location": [{"location": {"reference": "Location/er-trang"}}],
    }
    by_provider = {
        **by_location,
        "id": "e2",
        "location": None,
        "serviceProvider": {"reference": "Organization/sikao"},
    }
    del by_provider["location"]
    assert [t.hospital for t in _times(ward, by_location)] == ["trang"]
    assert [t.hospital for t in _times(by_provider)] == ["sikao"]


def test_an_estimated_needle_time_on_its_element_is_uncertain() -> None:
    needle = {**NEEDLE, "_effectiveDateTime": {"extension": [ESTIMATED]}}
    (time,) = _times(needle)
    assert (time.kind, time.source, time.uncertain) == ("needle", "estimated", True)


def test_a_groin_puncture_period_starts_at_its_hospitals_location_and_keeps_its_doubt() -> None:
    angio_suite = {
        "resourceType": "Location",
        "id": "angio",
        "managingOrganization": {"reference": "Organization/songkla"},
    }
    puncture = {
        "resourceType": "Procedure",
        "id": "evt",
        "status": "in-progress",
        "subject": {"reference": "Patient/p"},
        "performedPeriod": {"start": "2026-11-23T12:05:00+07:00"},
        "location": {"reference": "Location/angio"},
        "extension": [UNCERTAIN],
    }
    (time,) = _times(angio_suite, puncture)
    assert (time.kind, time.hospital, time.uncertain) == ("groin-puncture", "songkla", True)
    assert time.occurred_at == datetime(2026, 11, 23, 5, 5, tzinfo=UTC)


def test_a_rerouted_referral_tells_the_next_hospital_every_time_so_far_as_it_was_sent() -> None:
    def at(minute: int) -> datetime:
        return datetime(2026, 11, 23, 2, minute, tzinfo=UTC)

    clock = [
        Milestone(MilestoneCode.DOOR_IN_FIRST, at(0), at(1), TimeSource.ESTIMATED, True, "sikao"),
        Milestone(MilestoneCode.CT_STARTED, at(15), at(16), hospital="sikao"),
        Milestone(MilestoneCode.NEEDLE, at(40), at(41), TimeSource.DEVICE, hospital="sikao"),
        Milestone(MilestoneCode.DOOR_OUT_FIRST, at(55), at(56), hospital="sikao"),
        Milestone(MilestoneCode.LAST_KNOWN_WELL, at(0), at(1), hospital="sikao"),
    ]
    request = request_from_message(parse_message(_example()), now=NOW)
    rerouted = replace(request, reported_times=reported_from_clock(clock))
    heard = request_from_message(
        referral_requested_message(rerouted, source_endpoint="urn:t"), now=NOW
    )
    by_kind = {str(t.kind): t for t in heard.reported_times}
    assert set(by_kind) == {"door-in", "door-out", "ct-started", "needle"}
    assert (by_kind["door-in"].occurred_at, by_kind["door-in"].uncertain) == (at(0), True)
    assert by_kind["door-in"].source == "estimated"
    assert (by_kind["needle"].source, by_kind["needle"].uncertain) == ("device", False)
    assert {t.hospital for t in heard.reported_times} == {"sikao"}
    assert by_kind["door-out"].occurred_at == at(55)
    assert by_kind["ct-started"].occurred_at == at(15)
