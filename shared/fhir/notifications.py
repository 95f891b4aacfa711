"""Notification texts in Thai and English, and the link to the page they are about, inside one
CommunicationRequest.

English travels as ``payload.contentString``; each other language as a text attachment with its
``language`` (R4 has no language on a string), so the notifier picks the recipient's language.
The link travels on its own, as an attachment with only a ``url`` (``payload.contentAttachment
.url``): the texts never carry it, and nobody reads it back out of a text.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from shared.fhir.codes import NOTIFICATION_CATEGORY_SYSTEM, EventCode, organization_reference
from shared.fhir.conformance.notification_failure import NOTIFICATION_FAILURE_SYSTEM
from shared.fhir.envelope import FhirMessage, ResourceJson, build_message
from shared.fhir.models import Communication, CommunicationRequest
from shared.vocabulary.notification_categories import NotificationCategory
from shared.vocabulary.notification_failures import (
    NOTIFICATION_FAILURE_TERMS,
    NotificationFailure,
)
from shared.vocabulary.terms import Language

TEXT_PLAIN = "text/plain; charset=utf-8"
# What the link opens, for a reader of the raw resource.
LINK_TITLE = "Open / เปิด"


def bilingual_payload(*, english: str, thai: str, link: str | None = None) -> list[dict[str, Any]]:
    return [
        {"contentString": english},
        {
            "contentAttachment": {
                "contentType": TEXT_PLAIN,
                "language": Language.THAI.value,
                "data": base64.b64encode(thai.encode()).decode(),
            }
        },
        *([{"contentAttachment": {"url": link, "title": LINK_TITLE}}] if link else []),
    ]


def payload_link(resource: CommunicationRequest | Communication | ResourceJson) -> str | None:
    """The link the request (or a Communication) carries: the attachment with a url and no
    data, if any."""
    for part in _payload(resource):
        attachment = part.get("contentAttachment")
        if isinstance(attachment, dict) and attachment.get("url") and not attachment.get("data"):
            return str(attachment["url"])
    return None


# Unicode bidirectional embeddings, overrides and isolates (LRE..RLO, LRI..PDI): in a text a
# person reads they can make it show other than what it says ("Trojan Source"); no alert needs one.
_BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def payload_texts(request: CommunicationRequest | ResourceJson) -> dict[str, str]:
    """The request's texts by language ("en" for the plain string), bidirectional controls
    removed: these are the texts people are shown. A text whose data is no UTF-8 in base64 is
    left out (its reader gets the English one)."""
    texts: dict[str, str] = {}
    for part in _payload(request):
        string = part.get("contentString")
        if isinstance(string, str) and string:
            texts.setdefault("en", string.translate(_BIDI_CONTROLS))
        attachment = part.get("contentAttachment")
        if not isinstance(attachment, dict):
            continue
        language, data = attachment.get("language"), attachment.get("data")
        if isinstance(language, str) and language and isinstance(data, str) and data:
            try:
                text = base64.b64decode(data, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                continue
            texts.setdefault(language, text.translate(_BIDI_CONTROLS))
    return texts


def _payload(resource: CommunicationRequest | Communication | ResourceJson) -> list[dict[str, Any]]:
    """The resource's ``payload`` as FHIR JSON: read as it came from a message held as JSON (the
    notifier reads every request so, making no model), dumped from a model."""
    if isinstance(resource, dict):
        parts = resource.get("payload")
        return [p for p in parts if isinstance(p, dict)] if isinstance(parts, list) else []
    return [part.model_dump(mode="json", exclude_none=True) for part in resource.payload or []]


def notification_request_message(
    *,
    request_id: str,
    category: NotificationCategory,
    referral_id: str,
    recipients: Sequence[str],
    english: str,
    thai: str,
    link: str,
    sender: str,
    source_endpoint: str,
    people: Sequence[str] = (),
) -> FhirMessage:
    """notification-requested: a stat CommunicationRequest about a referral, in both languages,
    for the given organizations and ``people`` (references as the notifier's directory names
    them, e.g. ``PractitionerRole/<hospital>.<role>``) (PDPA: the texts carry the minimum,
    ``link`` opens the rest)."""
    addressed = [*(organization_reference(org) for org in recipients), *people]
    # Written as FHIR JSON and sent as it is: the test suite validates every built message.
    request: ResourceJson = {
        "resourceType": "CommunicationRequest",
        "id": request_id,
        "status": "active",
        "priority": "stat",
        "category": [
            {"coding": [{"system": NOTIFICATION_CATEGORY_SYSTEM, "code": category.value}]}
        ],
        "about": [{"reference": f"Task/{referral_id}"}],
        "recipient": [{"reference": reference} for reference in addressed],
        "authoredOn": datetime.now(UTC).isoformat(),
        "payload": bilingual_payload(english=english, thai=thai, link=link),
    }
    return build_message(
        event=EventCode.NOTIFICATION_REQUESTED,
        sender=sender,
        destinations=[organization_reference(org) for org in recipients],
        focus=[request],
        source_endpoint=source_endpoint,
    )


def failure_reason(failure: NotificationFailure, text: str) -> ResourceJson:
    """A notification-failed's Communication.statusReason: what failed, coded (one delivery,
    or nobody reached at all), and why in words (no patient data: a channel's answer)."""
    coding = {
        "system": NOTIFICATION_FAILURE_SYSTEM,
        "code": failure.value,
        "display": NOTIFICATION_FAILURE_TERMS[failure].english,
    }
    return {"coding": [coding], **({"text": text} if text else {})}


def unreached_request(message: FhirMessage) -> str | None:
    """The CommunicationRequest id a notification-failed says nobody could be reached for (the
    request's final failure); None for one delivery's failure, or any other message. Read from
    the message's JSON (every failure reaches the services that read outcomes)."""
    if message.event is not EventCode.NOTIFICATION_FAILED:
        return None
    communication = message.focus_json("Communication")
    if communication is None:
        return None
    reason = communication.get("statusReason")
    codings = reason.get("coding") if isinstance(reason, dict) else None
    final = any(
        isinstance(coding, dict)
        and coding.get("system") == NOTIFICATION_FAILURE_SYSTEM
        and coding.get("code") == NotificationFailure.NOBODY_REACHED.value
        for coding in codings or []
    )
    if not final:
        return None
    based_on = communication.get("basedOn")
    for reference in based_on if isinstance(based_on, list) else []:
        target = reference.get("reference") if isinstance(reference, dict) else None
        if isinstance(target, str) and target.startswith("CommunicationRequest/"):
            return target.removeprefix("CommunicationRequest/")
    return None
