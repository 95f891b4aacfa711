"""The CapabilityStatement of the referral service (GET /fhir/metadata)."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from services.referral.adapters.fhir_search import DEFAULT_COUNT, MAX_COUNT
from services.referral.domain import lifecycle
from shared.fhir.codes import EVENT_SYSTEM, PROJECT_CANONICAL, EventCode
from shared.fhir.codesystems import PUBLISHER
from shared.fhir.conformance.profiles import PROFILES, SERVICE_REQUEST, TASK
from shared.fhir.envelope import SOFTWARE_NAME, SOFTWARE_VERSION
from shared.fhir.models import FHIR_JSON, FHIR_VERSION

# When the CapabilityStatement last changed.
CAPABILITY_DATE = "2026-11-30"
PROCESS_MESSAGE = "http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message"
VALIDATE = "http://hl7.org/fhir/OperationDefinition/Resource-validate"
SEARCH_PARAMETER = "http://hl7.org/fhir/SearchParameter"
MESSAGE_TRANSPORT = "http://terminology.hl7.org/CodeSystem/message-transport"

# What hospital systems may send (Kafka or $process-message): new referrals and pre-alerts,
# every lifecycle step the rules accept from a hospital, and availability reports.
_NOT_LIFECYCLE_STEPS = frozenset(
    {EventCode.STROKE_PREALERT, EventCode.REFERRAL_REQUESTED, EventCode.AVAILABILITY_CHANGED}
)
HOSPITAL_EVENTS: tuple[EventCode, ...] = tuple(
    event for event in EventCode if event in lifecycle.RULES or event in _NOT_LIFECYCLE_STEPS
)


def _search_param(name: str, definition: str, kind: str, documentation: str) -> dict[str, str]:
    return {
        "name": name,
        "definition": f"{SEARCH_PARAMETER}/{definition}",
        "type": kind,
        "documentation": documentation,
    }


_LAST_UPDATED_PARAM = _search_param(
    "_lastUpdated",
    "Resource-lastUpdated",
    "date",
    "When anything about the referral was last recorded: prefixes eq, ne, gt, lt, ge, le, sa, eb, "
    "ap and a date at any precision (ge2026-11, ge2026-11-01, ge2026-11-01T09:00:00+07:00; "
    "without a zone, Asia/Bangkok); repeat the parameter to AND (e.g. ge...&lt...).",
)
_PATIENT_PARAM_DOC = "Patient/p-<referral id>, the Patient of the referral's messages."
_ORGANIZATION_DOC = "Organization/<id> or <id>; comma-separated values are ORed."


# Served under /fhir (services/referral/entrypoints/conformance_api.py).
CONFORMANCE_RESOURCES = (
    ("StructureDefinition", "profiles of the messages' resources"),
    ("MessageDefinition", "message definitions, one per event code"),
    ("ValueSet", "ValueSets, one per CodeSystem"),
    ("CodeSystem", "CodeSystems"),
)
_VALIDATE_OPERATION = {
    "name": "validate",
    "definition": VALIDATE,
    "documentation": (
        "POST /fhir/Bundle/$validate with a message Bundle: the OperationOutcome the real send "
        "would give (the same issues, with expression), or one information issue when it would "
        "be accepted. Nothing is kept."
    ),
}


def _referral_resource(
    kind: str, profile: str, documentation: str, search_params: list[dict[str, str]]
) -> dict[str, Any]:
    """Task or ServiceRequest: read and search, no versions, no writes over REST."""
    return {
        "type": kind,
        "profile": profile,
        "documentation": documentation,
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "versioning": "no-version",
        "readHistory": False,
        "updateCreate": False,
        "searchParam": search_params,
    }


def _message_profiles() -> dict[str, list[str]]:
    """The project's profiles of resources only carried in messages, by resource type."""
    found: dict[str, list[str]] = {}
    for profile in PROFILES:
        if profile.type not in ("Task", "ServiceRequest"):
            found.setdefault(profile.type, []).append(profile.url)
    return found


def capability_statement(base: str, public_url: str) -> dict[str, Any]:
    """What this server does over FHIR REST and FHIR messaging (validated with R4B)."""
    read_search = [{"code": "read"}, {"code": "search-type"}]
    data = {
        "resourceType": "CapabilityStatement",
        "id": "fasttrack-referral",
        "url": f"{PROJECT_CANONICAL}/CapabilityStatement/fasttrack-referral",
        "version": SOFTWARE_VERSION,
        "name": "FastTrackReferralService",
        "title": "Fast Track referral service",
        "status": "active",
        "experimental": False,
        "date": CAPABILITY_DATE,
        "publisher": PUBLISHER,
        "description": (
            "Stroke referrals between the hospitals of the network: FHIR messaging "
            "($process-message, or Kafka as described at /asyncapi.json) and read and search of "
            "the referral Task and ServiceRequest. A hospital sees only the referrals it sends "
            "or receives."
        ),
        "kind": "instance",
        "software": {"name": SOFTWARE_NAME, "version": SOFTWARE_VERSION},
        "implementation": {"description": "Fast Track referral service", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    f"Responses are {FHIR_JSON}; errors are OperationOutcomes. Search is strict: "
                    "an unknown parameter is answered 400, unless the request says 'Prefer: "
                    "handling=lenient' (then it is ignored and left out of the self link). "
                    f"_count defaults to {DEFAULT_COUNT} (at most {MAX_COUNT}; 0 gives the total "
                    "only), _offset pages (first/next/previous links), _total=none leaves the "
                    "total out; results are newest first."
                ),
                "security": {
                    "cors": False,
                    "description": (
                        "Every call except metadata, the conformance resources and the AsyncAPI "
                        "document needs "
                        "the hospital's API key: 'Authorization: Bearer <key>'. 401 without it, "
                        "403 for a referral between other hospitals."
                    ),
                },
                "resource": [
                    _referral_resource(
                        "Task",
                        TASK.url,
                        "The referral's state of fulfilment (HL7 BSeR, IHE 360X).",
                        [
                            _search_param(
                                "status",
                                "Task-status",
                                "token",
                                "http://hl7.org/fhir/task-status codes, comma-separated (OR).",
                            ),
                            _search_param("owner", "Task-owner", "reference", _ORGANIZATION_DOC),
                            _search_param(
                                "requester", "Task-requester", "reference", _ORGANIZATION_DOC
                            ),
                            _search_param(
                                "patient", "Task-patient", "reference", _PATIENT_PARAM_DOC
                            ),
                            _LAST_UPDATED_PARAM,
                        ],
                    ),
                    _referral_resource(
                        "ServiceRequest",
                        SERVICE_REQUEST.url,
                        "What the referral asks for (sr-<referral id>); its status follows "
                        "the Task: active, completed, revoked or entered-in-error.",
                        [
                            _search_param(
                                "status",
                                "ServiceRequest-status",
                                "token",
                                "http://hl7.org/fhir/request-status codes, comma-separated (OR).",
                            ),
                            _search_param(
                                "requester",
                                "ServiceRequest-requester",
                                "reference",
                                _ORGANIZATION_DOC,
                            ),
                            _search_param(
                                "performer",
                                "ServiceRequest-performer",
                                "reference",
                                _ORGANIZATION_DOC,
                            ),
                            _search_param(
                                "patient", "clinical-patient", "reference", _PATIENT_PARAM_DOC
                            ),
                            _LAST_UPDATED_PARAM,
                        ],
                    ),
                    *(
                        {
                            "type": kind,
                            "documentation": (
                                f"The project's {documentation}, at their canonical URLs "
                                f"({PROJECT_CANONICAL}/{kind}/<id>); no API key needed."
                            ),
                            "interaction": read_search,
                            "searchParam": [
                                _search_param("url", "conformance-url", "uri", "The canonical URL.")
                            ],
                        }
                        for kind, documentation in CONFORMANCE_RESOURCES
                    ),
                    *(
                        {
                            "type": kind,
                            "documentation": "Carried in messages (not read or searched here).",
                            "supportedProfile": urls,
                        }
                        for kind, urls in _message_profiles().items()
                    ),
                    {
                        "type": "Bundle",
                        "documentation": "Messages to check before sending them ($validate).",
                        "operation": [_VALIDATE_OPERATION],
                    },
                ],
                "operation": [
                    _VALIDATE_OPERATION,
                    {
                        "name": "process-message",
                        "definition": PROCESS_MESSAGE,
                        "documentation": (
                            "POST /fhir/$process-message with a message Bundle; the answer is "
                            "the response message, or an OperationOutcome saying why not."
                        ),
                    },
                ],
            }
        ],
        "messaging": [
            {
                "endpoint": [
                    {
                        "protocol": {"system": MESSAGE_TRANSPORT, "code": "http"},
                        "address": f"{base}/$process-message",
                    }
                ],
                "documentation": (
                    f"Events are codes of {EVENT_SYSTEM}. The same messages travel on Kafka "
                    "(each hospital's own fasttrack.hospital.inbound.v1.<id> in, "
                    "fasttrack.hospital.responses.v1.<id> out): see "
                    f"{public_url}/asyncapi.json."
                ),
                "supportedMessage": [
                    {
                        "mode": "receiver",
                        "definition": f"{PROJECT_CANONICAL}/MessageDefinition/{event.value}",
                    }
                    for event in HOSPITAL_EVENTS
                ],
            }
        ],
    }
    statement: dict[str, Any] = CapabilityStatement.model_validate(data).model_dump(
        mode="json", exclude_none=True
    )
    return statement
