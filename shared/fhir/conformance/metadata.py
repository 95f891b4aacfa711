"""What every conformance resource the project publishes says about itself."""

from __future__ import annotations

from typing import Any

from shared.fhir.codes import CODESYSTEM_VERSION, PROJECT_CANONICAL
from shared.fhir.codesystems import CODESYSTEM_DATE, PUBLISHER


def canonical_header(
    resource_type: str, *, id: str, name: str, title: str, description: str
) -> dict[str, Any]:
    """id, canonical url (``<PROJECT_CANONICAL>/<type>/<id>``), version, name, status, date,
    publisher and description of a conformance resource."""
    return {
        "resourceType": resource_type,
        "id": id,
        "url": f"{PROJECT_CANONICAL}/{resource_type}/{id}",
        "version": CODESYSTEM_VERSION,
        "name": name,
        "title": title,
        "status": "active",
        "experimental": False,
        "date": CODESYSTEM_DATE,
        "publisher": PUBLISHER,
        "description": description,
    }
