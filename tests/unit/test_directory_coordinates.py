"""A hospital's coordinates in the directory (routing's fallback when no road minutes are
known): FHIR R4B allows the geolocation extension on an Address only, so the demo directory puts
it there and the loader reads it there (a directory written with it on the Organization still
loads its coordinates)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fhir.resources.R4B.organization import Organization

from services.referral.load_directory import GEOLOCATION_URL, _organization_row
from shared.fhir.models import Bundle

DEMO = Path(__file__).resolve().parents[2] / "deploy" / "demo" / "directory.json"


def _geolocation(latitude: float, longitude: float) -> dict[str, Any]:
    return {
        "url": GEOLOCATION_URL,
        "extension": [
            {"url": "latitude", "valueDecimal": latitude},
            {"url": "longitude", "valueDecimal": longitude},
        ],
    }


def _demo_organizations() -> list[Organization]:
    bundle = Bundle.model_validate(json.loads(DEMO.read_text(encoding="utf-8")))
    return [e.resource for e in bundle.entry or [] if isinstance(e.resource, Organization)]


def test_the_demo_directory_puts_each_hospitals_geolocation_on_its_address() -> None:
    for organization in _demo_organizations():
        assert not [e for e in organization.extension or [] if e.url == GEOLOCATION_URL], (
            organization.id
        )
        located = [
            e
            for address in organization.address or []
            for e in address.extension or []
            if e.url == GEOLOCATION_URL
        ]
        assert len(located) == 1, organization.id
        row = _organization_row(organization)
        assert row["latitude"] is not None, organization.id
        assert row["longitude"] is not None, organization.id


def test_the_coordinates_are_read_from_the_address() -> None:
    organization = Organization.model_validate(
        {
            "resourceType": "Organization",
            "id": "h-address",
            "name": "H",
            "address": [{"extension": [_geolocation(7.5563, 99.6114)], "state": "Trang"}],
        }
    )
    row = _organization_row(organization)
    assert (row["latitude"], row["longitude"]) == (7.5563, 99.6114)


def test_a_directory_with_the_geolocation_on_the_organization_still_loads_its_coordinates() -> None:
    organization = Organization.model_validate(
        {
            "resourceType": "Organization",
            "id": "h-older",
            "name": "H",
            "extension": [_geolocation(7.4, 99.5)],
        }
    )
    row = _organization_row(organization)
    assert (row["latitude"], row["longitude"]) == (7.4, 99.5)
