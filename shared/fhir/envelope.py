"""The FHIR message envelope every Kafka event and every $process-message call uses.

A message is a Bundle of type ``message`` whose first entry is a MessageHeader carrying the event
code (``eventCoding`` from the project's CodeSystem), the sender, the destinations and the focus.
``build_message`` makes one; ``parse_message`` checks one and says precisely what is wrong.

Every message the project builds uses one fullUrl scheme: ``<PROJECT_CANONICAL>/<type>/<id>`` for
every entry, the MessageHeader included, so the relative references inside (``Task/x``) resolve by
the R4B Bundle rules. Messages from hospital systems are read by those rules too, liberally
(see shared.fhir.references): relative, absolute and ``urn:uuid`` references all resolve.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from fhir.resources.R4B.resource import Resource as FHIRAbstractModel
from pydantic import ValidationError

from shared.fhir.codes import (
    EVENT_SYSTEM,
    EVENT_TERMS,
    PROJECT_CANONICAL,
    RESPONSE_CODE_SYSTEM,
    EventCode,
)
from shared.fhir.conformance.profiles import with_profile
from shared.fhir.ids import is_valid_id
from shared.fhir.message import FhirMessage as FhirMessage
from shared.fhir.message import InvalidMessage as InvalidMessage
from shared.fhir.models import Bundle, MessageHeader, get_fhir_model_class
from shared.fhir.strict import StrictnessViolation, check_message_json
from shared.limits import DEFAULT_LIMITS, InputLimits, InputTooLarge, load_json

SOFTWARE_NAME = "Fast Track"
SOFTWARE_VERSION = "0.1.0"
# Pydantic errors beyond this many are summarised; a hospital engineer needs the first few.
_MAX_REPORTED_ERRORS = 5

# A built message is made of resource models that were validated when they were made; it is not
# validated again on every send. The test suite sets FT_CHECK_BUILT_MESSAGES=1, so every message
# any test builds (every builder's output) is also parsed back strictly, as a consumer would.
CHECK_BUILT_MESSAGES = os.environ.get("FT_CHECK_BUILT_MESSAGES") == "1"


# A resource as a typed builder writes it: its FHIR JSON, used as it is (no model made and dumped
# again); the test suite validates every built message (CHECK_BUILT_MESSAGES below).
ResourceJson = dict[str, Any]
BuiltResource = FHIRAbstractModel | ResourceJson


def reference_of(resource: BuiltResource) -> str:
    resource_type, resource_id = _type_and_id(resource)
    return f"{resource_type}/{resource_id}"


def _type_and_id(resource: BuiltResource) -> tuple[str, str]:
    if isinstance(resource, dict):
        return str(resource["resourceType"]), str(resource.get("id"))
    return resource.get_resource_type(), str(resource.id)


def _resource_json(resource: BuiltResource) -> ResourceJson:
    if isinstance(resource, dict):
        return resource
    return resource.model_dump(mode="json", exclude_none=True)


def full_url(resource_type: str, resource_id: str) -> str:
    """The fullUrl of an entry in every message the project builds."""
    return f"{PROJECT_CANONICAL}/{resource_type}/{resource_id}"


def build_message(
    *,
    event: EventCode,
    sender: str,
    destinations: Sequence[str],
    focus: Sequence[BuiltResource],
    supporting: Iterable[BuiltResource] = (),
    source_endpoint: str,
    message_id: str | None = None,
    response_to: tuple[str, str] | None = None,
    response_details: BuiltResource | None = None,
    timestamp: datetime | None = None,
) -> FhirMessage:
    """Builds a message Bundle; ``response_to`` is (request MessageHeader.id, response code),
    ``response_details`` the OperationOutcome of an error response. Resources are models or,
    cheaper, the FHIR JSON a typed builder wrote (``ResourceJson``), used as it is."""
    header_id = message_id or str(uuid.uuid4())
    now = (timestamp or datetime.now(UTC)).isoformat()
    header: dict[str, Any] = {
        "resourceType": "MessageHeader",
        "id": header_id,
        "eventCoding": {
            "system": EVENT_SYSTEM,
            "code": event.value,
            "display": EVENT_TERMS[event].english,
        },
        "sender": {"reference": sender},
        "source": {
            "software": SOFTWARE_NAME,
            "version": SOFTWARE_VERSION,
            "endpoint": source_endpoint,
        },
    }
    # FHIR forbids empty arrays (an element is absent or has a value): a broadcast has no
    # destination, an error response may have no focus.
    if destinations:
        header["destination"] = [
            {"endpoint": f"{PROJECT_CANONICAL}/endpoint/{d}", "receiver": {"reference": d}}
            for d in destinations
        ]
    if focus:
        header["focus"] = [{"reference": reference_of(r)} for r in focus]
    if response_to is not None:
        request_id, code = response_to
        header["response"] = {"identifier": request_id, "code": code}
        if response_details is not None:
            header["response"]["details"] = {"reference": reference_of(response_details)}
    resources = [*focus, *supporting, *([response_details] if response_details else [])]
    for resource in resources:
        if not is_valid_id(_type_and_id(resource)[1]):
            raise ValueError(f"{reference_of(resource)[:80]} has no valid FHIR id (1-64 chars)")
    bundle = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "message",
        "timestamp": now,
        "entry": [
            {"fullUrl": full_url("MessageHeader", header_id), "resource": with_profile(header)},
            *(
                {
                    "fullUrl": full_url(*_type_and_id(r)),
                    "resource": with_profile(_resource_json(r)),
                }
                for r in resources
            ),
        ],
    }
    if CHECK_BUILT_MESSAGES:
        # The test suite's check that nothing we emit could be refused by our own consumers.
        parse_message(orjson.dumps(bundle))
    return FhirMessage(document=bundle)


def parse_message(
    payload: bytes | str | dict[str, Any], limits: InputLimits = DEFAULT_LIMITS
) -> FhirMessage:
    """Parses and checks a message Bundle; raises InvalidMessage with a reason for the sender.
    ``payload`` may be the JSON ``message_json`` read (within the same limits)."""
    document = message_json(payload, limits)
    resource_type = document.get("resourceType")
    if not isinstance(resource_type, str):
        raise InvalidMessage(
            "Not a FHIR resource: the JSON object has no 'resourceType'", issue_code="structure"
        )
    if resource_type != "Bundle":
        raise InvalidMessage(
            f"Expected a Bundle of type 'message', got a {resource_type}",
            issue_code="structure",
            expression="Bundle",
        )
    if document.get("type") != "message":
        raise InvalidMessage(
            f"Bundle.type must be 'message', got {document.get('type')!r}",
            issue_code="structure",
            expression="Bundle.type",
        )
    try:
        check_message_json(document, limits)
    except StrictnessViolation as violation:
        raise InvalidMessage(
            violation.reason, issue_code=violation.issue_code, expression=violation.expression
        ) from None
    try:
        bundle = _validated_bundle(document)
    except ValidationError as error:
        raise InvalidMessage(
            f"Bundle does not conform to FHIR R4B: {_describe(error)}", issue_code="structure"
        ) from None
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        # The models' own code trips over some shapes instead of reporting them (found by
        # tests/unit/test_message_fuzz.py); the input is still what is wrong.
        raise InvalidMessage(
            f"Bundle does not conform to FHIR R4B ({type(error).__name__})",
            issue_code="structure",
        ) from None
    entries = bundle.entry or []
    header = entries[0].resource if entries else None
    if not isinstance(header, MessageHeader):
        raise InvalidMessage(
            "The first entry of a message Bundle must be a MessageHeader",
            issue_code="structure",
            expression="Bundle.entry[0].resource",
        )
    _check_header(header)
    message = FhirMessage(bundle=bundle, header=header)
    for reference in message.focus:
        if message.resolve(reference, FHIRAbstractModel) is None:
            raise InvalidMessage(
                f"MessageHeader.focus {reference!r} is not an entry of the Bundle",
                expression="MessageHeader.focus",
            )
    return message


def _validated_bundle(document: dict[str, Any]) -> Bundle:
    """The Bundle validated from ``document``, each entry's resource first by its own class and
    handed to the Bundle as that model: given the JSON, fhir_core finds a resource's class by
    importing its dotted name at every validation (a failing import, then a second one, per
    entry); a model it takes as it is. The same validators run on the same JSON. A message with
    an entry that does not validate alone, or is not an object with a resource's type, is
    validated the ordinary way, whole: what is refused, and the reasons given, are as before."""
    entries = document.get("entry")
    if isinstance(entries, list):
        try:
            typed = [_with_resource_model(entry) for entry in entries]
        except (ValidationError, TypeError, ValueError, KeyError, AttributeError):
            pass
        else:
            return Bundle.model_validate({**document, "entry": typed})
    return Bundle.model_validate(document)


def _with_resource_model(entry: object) -> dict[str, Any]:
    resource = entry.get("resource") if isinstance(entry, dict) else None
    kind = resource.get("resourceType") if isinstance(resource, dict) else None
    if not isinstance(entry, dict) or not isinstance(kind, str):
        raise TypeError("an entry the Bundle's own validation judges")
    model = get_fhir_model_class(kind)
    if not issubclass(model, FHIRAbstractModel):  # a data type's name, not a resource's
        raise TypeError(kind)
    return {**entry, "resource": model.model_validate(resource)}


def read_relayed_message(payload: bytes) -> FhirMessage:
    """A message the network's own outbox relay published, read without validating its Bundle.

    Such a record comes on a topic only the network's services may write (Kafka ACLs), with the
    relay's ``producer`` header and the FHIR version it was built for
    (shared.messaging.outbox_relay);
    its JSON was written by the typed builders above, whose every output the test suite parses
    back strictly (FT_CHECK_BUILT_MESSAGES). So only the envelope is checked here, enough to say
    what is wrong with a record that is not one; each entry a handler reads is made into its
    model when read (shared.fhir.message). Validating the whole Bundle again at every internal
    hop was the largest share of a consumer's CPU.
    """
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError as error:
        raise InvalidMessage(f"Body is not valid JSON: {error}", issue_code="structure") from None
    header = _relayed_header(document)
    if header is None:
        raise InvalidMessage(
            "Not a message Bundle the network built: no MessageHeader with an id, a known "
            "event code and a sender",
            issue_code="structure",
        )
    return FhirMessage(document=document)


def _relayed_header(document: object) -> dict[str, Any] | None:
    """The header of a message Bundle as the builders write it, or None."""
    if not isinstance(document, dict) or document.get("resourceType") != "Bundle":
        return None
    entries = document.get("entry")
    if document.get("type") != "message" or not isinstance(entries, list) or not entries:
        return None
    if not all(isinstance(e, dict) and isinstance(e.get("resource"), dict) for e in entries):
        return None
    header: dict[str, Any] = entries[0]["resource"]
    coding = header.get("eventCoding")
    sender = header.get("sender")
    well_formed = (
        header.get("resourceType") == "MessageHeader"
        and isinstance(header.get("id"), str)
        and isinstance(coding, dict)
        and coding.get("system") == EVENT_SYSTEM
        and coding.get("code") in EventCode._value2member_map_
        and isinstance(sender, dict)
        and isinstance(sender.get("reference"), str)
    )
    return header if well_formed else None


def _check_header(header: MessageHeader) -> None:
    if not header.id:
        raise InvalidMessage(
            "MessageHeader.id is required: it is the message's de-duplication key",
            issue_code="required",
            expression="MessageHeader.id",
        )
    coding = header.eventCoding
    if coding is None:
        raise InvalidMessage(
            "MessageHeader.eventCoding is required (eventUri is not accepted)",
            issue_code="required",
            expression="MessageHeader.eventCoding",
        )
    if coding.system != EVENT_SYSTEM:
        raise InvalidMessage(
            f"MessageHeader.eventCoding.system must be {EVENT_SYSTEM}",
            issue_code="code-invalid",
            expression="MessageHeader.eventCoding.system",
        )
    if coding.code not in EventCode._value2member_map_:
        raise InvalidMessage(
            f"Unknown event code {coding.code!r}",
            issue_code="code-invalid",
            expression="MessageHeader.eventCoding.code",
        )
    if header.sender is None or not header.sender.reference:
        raise InvalidMessage(
            "MessageHeader.sender is required: the sending organization",
            issue_code="required",
            expression="MessageHeader.sender",
        )
    response = header.response
    if response is not None and response.code not in ("ok", "transient-error", "fatal-error"):
        raise InvalidMessage(
            f"MessageHeader.response.code must come from {RESPONSE_CODE_SYSTEM}",
            issue_code="code-invalid",
            expression="MessageHeader.response.code",
        )


def message_json(payload: bytes | str | dict[str, Any], limits: InputLimits) -> dict[str, Any]:
    """The JSON object of a message's bytes, read within ``limits``; raises InvalidMessage. A
    caller that needs the JSON as well as the message (the inbox digest) reads it once, here, and
    hands it to ``parse_message``."""
    if isinstance(payload, dict):
        return payload
    try:
        document = load_json(payload, limits)
    except InputTooLarge as too_large:
        raise InvalidMessage(too_large.reason, issue_code="too-costly") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidMessage(f"Body is not valid JSON: {error}", issue_code="structure") from None
    if not isinstance(document, dict):
        raise InvalidMessage("Not a FHIR resource: expected a JSON object", issue_code="structure")
    return document


def _describe(error: ValidationError) -> str:
    # include_input=False: the offending values may be patient data and must not be echoed back.
    problems = error.errors(include_input=False, include_url=False)
    parts = [
        f"{'.'.join(str(p) for p in problem['loc']) or 'Bundle'}: {problem['msg']}"
        for problem in problems[:_MAX_REPORTED_ERRORS]
    ]
    if len(problems) > _MAX_REPORTED_ERRORS:
        parts.append(f"and {len(problems) - _MAX_REPORTED_ERRORS} more")
    return "; ".join(parts)
