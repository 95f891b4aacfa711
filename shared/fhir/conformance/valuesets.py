"""A ValueSet for each of the project's CodeSystems (all its codes), for the profiles' bindings."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.valueset import ValueSet

from shared.fhir.codes import PROJECT_CANONICAL
from shared.fhir.codesystems import ProjectCodeSystem
from shared.fhir.conformance.metadata import canonical_header


def value_set_url(code_system_id: str) -> str:
    return f"{PROJECT_CANONICAL}/ValueSet/{code_system_id}"


def value_set(code_system: ProjectCodeSystem) -> dict[str, Any]:
    """Every code of ``code_system``, as a ValueSet with the same id (validated with R4B)."""
    data = {
        **canonical_header(
            "ValueSet",
            id=code_system.id,
            name=f"{code_system.name}Codes",
            title=code_system.title,
            description=f"All codes of {code_system.url}.",
        ),
        "immutable": False,
        "compose": {"include": [{"system": code_system.url}]},
    }
    dumped: dict[str, Any] = ValueSet.model_validate(data).model_dump(
        mode="json", exclude_none=True
    )
    return dumped
