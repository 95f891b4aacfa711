"""directory-changed: the network's hospital directory, whole, for the services that must tell
a hospital of the network from a typo (telemedicine's consult first). Only what they need:
each Organization's id, names and stroke capabilities (no address, no contact)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from shared.fhir.codes import NETWORK_ORGANIZATION, PROJECT_CANONICAL, EventCode
from shared.fhir.envelope import build_message
from shared.fhir.message import FhirMessage

# One key: a newer directory follows an older one on the same partition.
DIRECTORY_KEY = "directory"
_KEPT = ("resourceType", "id", "active", "name", "type")
# Of the extensions only the Thai name (a hospital's geolocation, on its Address, is the
# referral service's routing, and the address is left out).
_THAI_NAME_URL = f"{PROJECT_CANONICAL}/StructureDefinition/name-th"


def directory_changed_message(
    organizations: Sequence[dict[str, Any]], *, source_endpoint: str, at: datetime
) -> FhirMessage:
    """``organizations``: the directory's Organizations as FHIR JSON."""
    focus = [_shared_part(organization) for organization in organizations]
    return build_message(
        event=EventCode.DIRECTORY_CHANGED,
        sender=NETWORK_ORGANIZATION,
        destinations=[],
        focus=focus,
        source_endpoint=source_endpoint,
        timestamp=at,
    )


def _shared_part(organization: dict[str, Any]) -> dict[str, Any]:
    shared = {key: value for key, value in organization.items() if key in _KEPT}
    thai_name = [e for e in organization.get("extension", ()) if e.get("url") == _THAI_NAME_URL]
    if thai_name:
        shared["extension"] = thai_name
    return shared
