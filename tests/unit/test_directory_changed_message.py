"""directory-changed: the referral service's directory, whole, as telemedicine reads it (the
demo directory through both services' code, as FHIR JSON would travel on Kafka)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from fhir.resources.R4B.organization import Organization

from services.referral.adapters.directory_message import directory_changed_message
from services.referral.load_directory import _organization_row
from services.telemedicine.adapters.hub_directory import hubs_of
from shared.fhir.codes import EventCode
from shared.fhir.envelope import parse_message
from shared.fhir.models import Bundle

DEMO = Path(__file__).resolve().parents[2] / "deploy" / "demo" / "directory.json"


def _demo_organizations() -> list[dict[str, object]]:
    bundle = Bundle.model_validate(json.loads(DEMO.read_text(encoding="utf-8")))
    return [
        _organization_row(entry.resource)["resource"]
        for entry in bundle.entry or []
        if isinstance(entry.resource, Organization)
    ]


def test_telemedicine_reads_every_hospital_of_the_directory_with_its_names() -> None:
    organizations = _demo_organizations()
    built = directory_changed_message(
        organizations, source_endpoint="https://fasttrack.test/fhir", at=datetime.now(UTC)
    )

    received = parse_message(json.dumps(built.to_dict()).encode())
    hubs = {hub.id: hub for hub in hubs_of(received)}

    assert received.event is EventCode.DIRECTORY_CHANGED
    assert set(hubs) == {str(o["id"]) for o in organizations}
    assert "trang-hospital" in hubs
    assert hubs["trang-hospital"].name == next(
        o["name"] for o in organizations if o["id"] == "trang-hospital"
    )
    # Those that take teleconsults are told apart (the form offers them first).
    assert any(hub.stroke_hub for hub in hubs.values())
    assert any(hub.name_th for hub in hubs.values())
    # Only the Thai name of the extensions (FHIR allows geolocation on an Address only).
    urls = {
        extension["url"]
        for entry in built.to_dict()["entry"][1:]
        for extension in entry["resource"].get("extension", ())
    }
    assert len(urls) == 1
    assert next(iter(urls)).endswith("/StructureDefinition/name-th")


def test_the_message_carries_no_address_or_contact() -> None:
    built = directory_changed_message(
        [{"resourceType": "Organization", "id": "h-1", "name": "H", "telecom": [{"value": "1"}]}],
        source_endpoint="https://fasttrack.test/fhir",
        at=datetime.now(UTC),
    )
    organization = built.to_dict()["entry"][1]["resource"]
    assert "telecom" not in organization
