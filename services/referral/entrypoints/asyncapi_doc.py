"""The AsyncAPI 3.0 document of the Kafka topics hospital systems use (GET /asyncapi.json)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse
from faststream.specification.asyncapi import AsyncAPI, get_asyncapi_html

from services.referral.adapters.fhir_inbound import REFERRAL_REQUIREMENTS
from shared.fhir.codes import EVENT_SYSTEM, EventCode
from shared.fhir.envelope import SOFTWARE_VERSION
from shared.fhir.models import FHIR_JSON, FHIR_VERSION
from shared.messaging import headers
from shared.messaging.topics import (
    HOSPITAL_INBOUND_TOPICS,
    HOSPITAL_RESPONSE_TOPICS,
    PerHospitalTopics,
)
from shared.runtime import RuntimeDep, ServiceRuntime

# Documents outside the FHIR base: the AsyncAPI description of the Kafka topics.
docs_router = APIRouter()

ASYNCAPI_TITLE = "Fast Track: Kafka topics for hospital systems"
ASYNCAPI_DESCRIPTION = f"""\
What a hospital system produces to and consumes from the Fast Track network on Kafka.

Operations are described from the network's side. Every hospital has two topics of its own,
named with its directory id (`organizationId`, e.g. `sikao-hospital`): the network **receives**
what the hospital produces on `fasttrack.hospital.inbound.v1.{{organizationId}}` and **sends** the
answer to each message (`ok` with the Task, or `fatal-error` with an OperationOutcome) on
`fasttrack.hospital.responses.v1.{{organizationId}}`. Kafka's ACLs let a hospital's user write
only its own inbound topic and read only its own response topic (consumer groups named
`<organizationId>.*`); a message on a hospital's inbound topic must name that hospital as
`MessageHeader.sender`, or it is refused (`fatal-error`, issue `forbidden`) and dead-lettered.

Every value is a FHIR R4B ({FHIR_VERSION}) message Bundle: first entry a MessageHeader with
`eventCoding` from {EVENT_SYSTEM}, `sender`, `destination`, `source` and `focus` (the Task). The
Kafka key is the referral (Task) id, so one patient's messages stay in order; the `message-id`
header (= MessageHeader.id) is the de-duplication key. The same messages can be posted to
`POST /fhir/$process-message`; read and search the referrals at `/fhir/Task` (see
`/fhir/metadata`).

{REFERRAL_REQUIREMENTS}"""

FHIR_MESSAGE_SCHEMA: dict[str, Any] = {
    "title": "FHIR message Bundle",
    "type": "object",
    "description": (
        f"A FHIR R4B Bundle of type message; entry[0] is the MessageHeader (eventCoding from "
        f"{EVENT_SYSTEM}), the other entries the focus (Task) and supporting resources."
    ),
    "externalDocs": {"url": "https://hl7.org/fhir/R4B/messaging.html"},
    "required": ["resourceType", "type", "entry"],
    "properties": {
        "resourceType": {"const": "Bundle"},
        "id": {"type": "string"},
        "type": {"const": "message"},
        "timestamp": {"type": "string", "format": "date-time"},
        "entry": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["resource"],
                "properties": {
                    "fullUrl": {"type": "string"},
                    "resource": {
                        "type": "object",
                        "required": ["resourceType"],
                        "properties": {"resourceType": {"type": "string"}},
                    },
                },
            },
        },
    },
}
KAFKA_HEADERS_SCHEMA: dict[str, Any] = {
    "title": "Fast Track Kafka headers",
    "type": "object",
    "properties": {
        headers.MESSAGE_ID: {
            "type": "string",
            "description": "MessageHeader.id: the de-duplication key",
        },
        headers.EVENT_CODE: {
            "type": "string",
            "description": f"MessageHeader.eventCoding.code ({EVENT_SYSTEM})",
            "enum": [event.value for event in EventCode],
        },
        headers.SEQUENCE: {
            "type": "string",
            "description": "Per producer and referral, increasing by one: a gap is a lost message",
        },
        headers.PRODUCER: {"type": "string", "description": "The producing service or system"},
        headers.FHIR_VERSION: {"type": "string", "const": FHIR_VERSION},
        headers.CONTENT_TYPE: {"type": "string", "const": FHIR_JSON},
        "traceparent": {
            "type": "string",
            "description": "W3C trace context: one trace follows the referral across services",
        },
    },
}


def asyncapi_document(runtime: ServiceRuntime) -> dict[str, Any]:
    """The AsyncAPI 3.0 document FastStream generates from the broker's subscribers and
    publishers, with the FHIR message payload, the Kafka key and headers filled in."""
    document: dict[str, Any] = (
        AsyncAPI(
            runtime.broker,
            title=ASYNCAPI_TITLE,
            version=SOFTWARE_VERSION,
            description=ASYNCAPI_DESCRIPTION,
            schema_version="3.0.0",
        )
        .to_specification()
        .to_jsonable()
    )
    document["defaultContentType"] = FHIR_JSON
    components = document.setdefault("components", {})
    for message in components.get("messages", {}).values():
        message["contentType"] = FHIR_JSON
        message["payload"] = {"$ref": "#/components/schemas/FhirMessageBundle"}
        message["headers"] = {"$ref": "#/components/schemas/KafkaHeaders"}
        message["correlationId"] = {
            "description": "MessageHeader.id; a response carries it in MessageHeader.response",
            "location": f"$message.header#/{headers.MESSAGE_ID}",
        }
        message["bindings"] = {
            "kafka": {
                "key": {"type": "string", "description": "The referral (Task) id"},
                "bindingVersion": "0.4.0",
            }
        }
    for channel in document.get("channels", {}).values():
        _name_the_hospital_parameter(channel)
    # FastStream's payload schemas describe the Python handlers, not the FHIR messages.
    components["schemas"] = {
        "FhirMessageBundle": FHIR_MESSAGE_SCHEMA,
        "KafkaHeaders": KAFKA_HEADERS_SCHEMA,
    }
    return document


def _name_the_hospital_parameter(channel: dict[str, Any]) -> None:
    """A per-hospital channel gets its address with the ``organizationId`` parameter (FastStream
    shows the subscriber's regular expression) and no single Kafka topic in its binding."""
    for topics in (HOSPITAL_INBOUND_TOPICS, HOSPITAL_RESPONSE_TOPICS):
        if channel.get("address") in (topics.pattern, topics.address):
            channel["address"] = topics.address
            channel["parameters"] = {
                PerHospitalTopics.PARAMETER: {
                    "description": "The hospital's Organization.id in the network's directory "
                    "(GET /directory), e.g. sikao-hospital; also its Kafka user name",
                }
            }
            channel.get("bindings", {}).get("kafka", {}).pop("topic", None)


@dataclass(frozen=True)
class _Specification:
    """A finished AsyncAPI document, as FastStream's HTML page wants it."""

    document: dict[str, Any]

    @property
    def title(self) -> str:
        return str(self.document["info"]["title"])

    def to_json(self) -> str:
        return json.dumps(self.document)

    def to_jsonable(self) -> Any:
        return self.document

    def to_yaml(self) -> str:
        return self.to_json()  # JSON is YAML


@docs_router.get("/asyncapi.json", response_class=JSONResponse)
async def asyncapi_json(runtime: RuntimeDep) -> JSONResponse:
    """The AsyncAPI 3.0 document of the topics hospital systems use (no API key needed)."""
    return JSONResponse(asyncapi_document(runtime))


@docs_router.get("/asyncapi", response_class=HTMLResponse)
async def asyncapi_page(runtime: RuntimeDep) -> HTMLResponse:
    """The same document, rendered by the AsyncAPI web component."""
    page = get_asyncapi_html(_Specification(asyncapi_document(runtime)), try_it_out_path=None)
    return HTMLResponse(page)
