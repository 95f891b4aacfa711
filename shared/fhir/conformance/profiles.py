"""StructureDefinition profiles of the resources the project's messages carry.

Every resource the project builds declares its profile in ``meta.profile`` (``with_profile``),
so any validator that can fetch the profiles (they are served under /fhir/StructureDefinition)
checks the project's rules as well as R4B's. The profiles constrain what the services rely on:
a hospital system's message that validates against them is one the network understands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.structuredefinition import StructureDefinition

from shared.fhir import codes
from shared.fhir.codes import PROJECT_CANONICAL
from shared.fhir.conformance.metadata import canonical_header
from shared.fhir.conformance.valuesets import value_set_url
from shared.fhir.models import FHIR_VERSION

CORE = "http://hl7.org/fhir/StructureDefinition"


def _reference(*targets: str) -> list[dict[str, Any]]:
    return [{"code": "Reference", "targetProfile": [f"{CORE}/{t}" for t in targets]}]


@dataclass(frozen=True)
class Profile:
    id: str
    type: str
    title: str
    description: str
    # Differential elements after the root, in the base definition's order: (path below the
    # type, constraints).
    elements: Sequence[tuple[str, dict[str, Any]]]
    # For Observations: the code that selects this profile.
    code: tuple[str, str] | None = None

    @property
    def url(self) -> str:
        return f"{PROJECT_CANONICAL}/StructureDefinition/{self.id}"

    def to_json(self) -> dict[str, Any]:
        element = [{"id": self.type, "path": self.type}]
        for path, constraints in self.elements:
            full = f"{self.type}.{path}"
            element.append({"id": full, "path": full, **constraints})
        data = {
            **canonical_header(
                "StructureDefinition",
                id=self.id,
                name="".join(part.capitalize() for part in self.id.split("-")),
                title=self.title,
                description=self.description,
            ),
            "fhirVersion": FHIR_VERSION,
            "kind": "resource",
            "abstract": False,
            "type": self.type,
            "baseDefinition": f"{CORE}/{self.type}",
            "derivation": "constraint",
            "differential": {"element": element},
        }
        dumped: dict[str, Any] = StructureDefinition.model_validate(data).model_dump(
            mode="json", exclude_none=True
        )
        return dumped


def _pattern(system: str, code: str) -> dict[str, Any]:
    return {"patternCodeableConcept": {"coding": [{"system": system, "code": code}]}}


MESSAGE_HEADER = Profile(
    id="fasttrack-message-header",
    type="MessageHeader",
    title="Fast Track message header",
    description=(
        "The first entry of every Fast Track message: the event from the project's event "
        "CodeSystem (eventCoding; eventUri is not accepted), the sending Organization and the "
        "focus (the referral Task, or what the event is about; a fatal-error response to a "
        "message that could not be read may have none)."
    ),
    elements=(
        (
            "event[x]",
            {
                "type": [{"code": "Coding"}],
                "binding": {"strength": "required", "valueSet": value_set_url("event")},
            },
        ),
        ("sender", {"min": 1, "type": _reference("Organization")}),
    ),
)
TASK = Profile(
    id="fasttrack-task",
    type="Task",
    title="Fast Track referral or teleconsult Task",
    description=(
        "The state of a referral (HL7 BSeR, IHE 360X) or of a teleconsult (partOf the referral "
        "Task): requested by one Organization of the network, owned by another."
    ),
    elements=(
        ("focus", {"type": _reference("ServiceRequest")}),
        ("for", {"type": _reference("Patient")}),
        ("requester", {"min": 1, "type": _reference("Organization")}),
        ("owner", {"type": _reference("Organization")}),
    ),
)
SERVICE_REQUEST = Profile(
    id="fasttrack-referral-request",
    type="ServiceRequest",
    title="Fast Track referral or teleconsult request",
    description="What a referral asks for: the patient, from one Organization to another.",
    elements=(
        ("subject", {"type": _reference("Patient")}),
        ("requester", {"min": 1, "type": _reference("Organization")}),
        ("performer", {"type": _reference("Organization")}),
    ),
)
LKW_OBSERVATION = Profile(
    id="fasttrack-last-known-well",
    type="Observation",
    title="Last known well",
    description=(
        "When the patient was last known to be well (the thrombolysis and thrombectomy windows "
        "start here), in effectiveDateTime with a time zone. Condition.onsetDateTime of the "
        "stroke Condition is read as well."
    ),
    elements=(
        ("code", _pattern(codes.STROKE_OBSERVATION_SYSTEM, codes.LAST_KNOWN_WELL)),
        ("subject", {"min": 1, "type": _reference("Patient")}),
        ("effective[x]", {"min": 1, "type": [{"code": "dateTime"}]}),
    ),
    code=(codes.STROKE_OBSERVATION_SYSTEM, codes.LAST_KNOWN_WELL),
)
LVO_OBSERVATION = Profile(
    id="fasttrack-lvo-suspected",
    type="Observation",
    title="Large-vessel occlusion suspected",
    description="Whether a large-vessel occlusion is suspected (routing to thrombectomy).",
    elements=(
        ("code", _pattern(codes.STROKE_OBSERVATION_SYSTEM, codes.LVO_SUSPECTED)),
        ("subject", {"min": 1, "type": _reference("Patient")}),
        ("value[x]", {"min": 1, "type": [{"code": "boolean"}]}),
    ),
    code=(codes.STROKE_OBSERVATION_SYSTEM, codes.LVO_SUSPECTED),
)
NIHSS_OBSERVATION = Profile(
    id="fasttrack-nihss",
    type="Observation",
    title="NIH Stroke Scale total score",
    description="NIHSS total (LOINC 72089-6), 0 to 42.",
    elements=(
        ("code", _pattern(codes.LOINC, codes.LOINC_NIHSS_TOTAL)),
        ("subject", {"min": 1, "type": _reference("Patient")}),
        (
            "value[x]",
            {
                "min": 1,
                "type": [{"code": "integer"}],
                "minValueInteger": 0,
                "maxValueInteger": 42,
            },
        ),
    ),
    code=(codes.LOINC, codes.LOINC_NIHSS_TOTAL),
)
NOTIFICATION_REQUEST = Profile(
    id="fasttrack-notification-request",
    type="CommunicationRequest",
    title="Fast Track notification request",
    description=(
        "What the notifier delivers: a category from the notification-category CodeSystem, about "
        "the referral Task, for Organizations (or people, roles, groups) of the network, with the "
        "text in English (contentString) and Thai (a text attachment with language th), and "
        "the link to the page it is about as an attachment with only a url."
    ),
    elements=(
        (
            "category",
            {
                "min": 1,
                "binding": {
                    "strength": "required",
                    "valueSet": value_set_url("notification-category"),
                },
            },
        ),
        ("priority", {"min": 1}),
        ("about", {"min": 1, "type": _reference("Task")}),
        ("payload", {"min": 1}),
        (
            "recipient",
            {
                "min": 1,
                "type": _reference("Organization", "Practitioner", "PractitionerRole", "Group"),
            },
        ),
    ),
)
PROFILES: tuple[Profile, ...] = (
    MESSAGE_HEADER,
    TASK,
    SERVICE_REQUEST,
    LKW_OBSERVATION,
    LVO_OBSERVATION,
    NIHSS_OBSERVATION,
    NOTIFICATION_REQUEST,
)
_BY_TYPE = {p.type: p for p in PROFILES if p.code is None}
_BY_CODE = {p.code: p for p in PROFILES if p.code is not None}


def profile_for(resource: dict[str, Any]) -> Profile | None:
    """The project's profile a resource of this type (and code) conforms to, if any."""
    kind = resource.get("resourceType")
    if kind == "Observation":
        for coding in resource.get("code", {}).get("coding", []):
            found = _BY_CODE.get((coding.get("system"), coding.get("code")))
            if found is not None:
                return found
        return None
    return _BY_TYPE.get(str(kind))


def with_profile(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource (FHIR JSON) with its profile in meta.profile, when it has one."""
    profile = profile_for(resource)
    if profile is None:
        return resource
    meta = dict(resource.get("meta") or {})
    declared = list(meta.get("profile") or [])
    if profile.url not in declared:
        meta["profile"] = [*declared, profile.url]
    return {**resource, "meta": meta}
