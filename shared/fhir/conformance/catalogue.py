"""Every conformance resource the project publishes, as FHIR JSON, by type and id."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from shared.fhir.codes import EventCode
from shared.fhir.codesystems import CODE_SYSTEMS, ProjectCodeSystem
from shared.fhir.conformance.messages import message_definition
from shared.fhir.conformance.notification_channel import NOTIFICATION_CHANNEL
from shared.fhir.conformance.notification_failure import NOTIFICATION_FAILURE
from shared.fhir.conformance.profiles import PROFILES
from shared.fhir.conformance.valuesets import value_set

PUBLISHED_CODE_SYSTEMS: Mapping[str, ProjectCodeSystem] = {
    **CODE_SYSTEMS,
    NOTIFICATION_CHANNEL.id: NOTIFICATION_CHANNEL,
    NOTIFICATION_FAILURE.id: NOTIFICATION_FAILURE,
}


def published(
    answered: Collection[EventCode] = frozenset(),
) -> dict[str, dict[str, dict[str, Any]]]:
    """{resource type: {id: resource}} of everything served under /fhir; ``answered``: the
    events hospital systems send, each answered with a response message."""
    return {
        "StructureDefinition": {p.id: p.to_json() for p in PROFILES},
        "ValueSet": {c.id: value_set(c) for c in PUBLISHED_CODE_SYSTEMS.values()},
        "CodeSystem": {c.id: c.to_json() for c in PUBLISHED_CODE_SYSTEMS.values()},
        "MessageDefinition": {
            e.value: message_definition(e, answered=e in answered) for e in EventCode
        },
    }


def conformance_resources(answered: Collection[EventCode] = frozenset()) -> list[dict[str, Any]]:
    return [resource for by_id in published(answered).values() for resource in by_id.values()]
