"""Every conformance resource the project publishes, as FHIR JSON."""

from __future__ import annotations

from typing import Any

from shared.fhir.codesystems import CODE_SYSTEMS


def conformance_resources() -> list[dict[str, Any]]:
    return [code_system.to_json() for code_system in CODE_SYSTEMS.values()]
