"""Notification requests -> deliveries: a CommunicationRequest (FHIR R4B) read into the deliveries
it asks for, whom they reach on which channel. The Communications told back about each delivery
are ``communication_messages``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.notifier.domain.contacts import ContactBook
from services.notifier.domain.directory import ContactPoint, Recipient
from services.notifier.domain.model import Channel, Delivery
from shared.fhir.conformance.notification_channel import NOTIFICATION_CHANNEL_SYSTEM
from shared.fhir.envelope import FhirMessage, ResourceJson
from shared.fhir.notifications import payload_link, payload_texts
from shared.messaging.message_handlers import PermanentMessageError
from shared.vocabulary.notification_categories import (
    ESCALATED_BY_SENDER,
    NotificationCategory,
)

CHANNEL_SYSTEM = NOTIFICATION_CHANNEL_SYSTEM


# Alerts someone must confirm they saw (stroke and time alerts); the rest are informative.
NEEDS_ACKNOWLEDGEMENT = frozenset(
    {
        NotificationCategory.STROKE_ALERT,
        NotificationCategory.TIME_ALERT,
        NotificationCategory.TELECONSULT_REQUEST,
    }
)


def deliveries_from_request(
    message: FhirMessage,
    *,
    contacts: ContactBook,
    trace_context: dict[str, str],
    at: datetime | None = None,
) -> list[Delivery]:
    """One delivery per person (or team channel) each recipient resolves to, on their first
    channel; plus, for a hospital, a webhook copy (when its system takes them) and a live event
    for its web pages. Two recipients that resolve to one person give that person one message."""
    # Read from the message's JSON, as it came (no model of the request: every page's).
    request = message.focus_json("CommunicationRequest")
    if request is None:
        raise PermanentMessageError("notification-requested needs a CommunicationRequest focus")
    referral = next(
        (
            reference
            for reference in _references(request.get("about"))
            if reference.startswith("Task/")
        ),
        None,
    )
    if referral is None:
        raise PermanentMessageError("CommunicationRequest.about must reference the referral Task")
    addressed = _references(request.get("recipient"))
    if not addressed:
        raise PermanentMessageError("CommunicationRequest.recipient is empty")
    texts = payload_texts(request)
    english = texts.get("en", "")
    link = payload_link(request)
    categories = [
        coding.get("code")
        for concept in _dicts(request.get("category"))
        for coding in _dicts(concept.get("coding"))
    ]
    category = next((str(code) for code in categories if code), "")
    request_id = f"{message.message_id}/{request.get('id')}"
    referral_id = referral.removeprefix("Task/")
    priority = str(request.get("priority") or "routine")
    body = {
        "referral": referral_id,
        "priority": priority,
        "category": category,
        "text": english,
        # Every language the request carries, so an escalation to someone else can switch.
        "texts": texts,
        "needs_ack": category in NEEDS_ACKNOWLEDGEMENT,
        # Whether the notifier's own ladder escalates it when unanswered (not when the sender
        # runs its own: a consult's page).
        "escalates": category not in ESCALATED_BY_SENDER,
        **({"link": link} if link else {}),
    }
    moment = at or datetime.now(UTC)
    deliveries: dict[str, Delivery] = {}
    for reference in addressed:
        reached = [
            (recipient, recipient.channels[0], recipient.language)
            for recipient in (
                contained_recipients(request, reference)
                if reference.startswith("#")
                else contacts.resolve(reference, category=category, at=moment)
            )
            if recipient.channels
        ]
        organization = contacts.hospital_of(reference)
        if organization is not None:
            # The hospital's systems and screens get a copy of what is addressed to its people.
            hospital = Recipient(
                f"Organization/{organization}", (), contacts.language(reference), organization
            )
            if contacts.takes_webhooks(organization):
                reached.append((hospital, ContactPoint(Channel.WEBHOOK), hospital.language))
            reached.append((hospital, ContactPoint(Channel.IN_APP), hospital.language))
        if not reached:
            raise PermanentMessageError(
                f"recipient {reference} reaches nobody: not in the notifier's directory"
            )
        for recipient, contact, language in reached:
            delivery = delivery_for(
                request_id=request_id,
                referral_id=referral_id,
                recipient=recipient.reference,
                contact=contact,
                priority=priority,
                body=in_language(body, language),
                trace_context=trace_context,
                addressed_to=reference,
                hospital=recipient.hospital,
                role=recipient.role,
            )
            deliveries.setdefault(delivery.id, delivery)
    return list(deliveries.values())


# A patient at home is in no directory: the request carries their own telecom (a contained
# Patient): a LINE user id as system "other" with this prefix, a mobile number as "sms".
LINE_ADDRESS_PREFIX = "line:"


def contained_recipients(request: ResourceJson, reference: str) -> list[Recipient]:
    """The contained Patient ``reference`` (``#id``) names, reached on their own LINE (first)
    or phone; [] when it names none."""
    wanted = reference.removeprefix("#")
    for resource in _dicts(request.get("contained")):
        if resource.get("resourceType") != "Patient" or resource.get("id") != wanted:
            continue
        channels = []
        for telecom in _dicts(resource.get("telecom")):
            value = str(telecom.get("value") or "")
            system = telecom.get("system")
            if system == "other" and value.startswith(LINE_ADDRESS_PREFIX):
                channels.append(ContactPoint(Channel.LINE, value.removeprefix(LINE_ADDRESS_PREFIX)))
            elif system == "sms" and value:
                channels.append(ContactPoint(Channel.SMS, value))
        channels.sort(key=lambda point: point.channel is not Channel.LINE)
        languages = [
            str(language["text"])
            for communication in _dicts(resource.get("communication"))
            if isinstance(language := communication.get("language"), dict) and language.get("text")
        ]
        language = languages[0] if languages else "th"
        return [Recipient(f"Patient/{wanted}", tuple(channels), language)]
    return []


def _dicts(value: object) -> list[dict[str, Any]]:
    """The objects of a JSON array (nothing for anything else)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def pages_of_request(message: FhirMessage, *, contacts: ContactBook) -> set[str]:
    """The hospitals whose pages show a notification request (its in-app deliveries, as
    ``deliveries_from_request`` makes them), from its recipients alone."""
    request = message.focus_json("CommunicationRequest")
    if request is None:
        return set()
    return {
        hospital
        for reference in _references(request.get("recipient"))
        if (hospital := contacts.hospital_of(reference))
    }


def _references(value: object) -> list[str]:
    """The ``reference`` strings of a JSON array of References."""
    return [
        str(r["reference"])
        for r in _dicts(value)
        if isinstance(r.get("reference"), str) and r["reference"]
    ]


def in_language(body: dict[str, Any], language: str) -> dict[str, Any]:
    """The body with its text in ``language`` when the request carried it, else in English."""
    texts: dict[str, str] = body.get("texts") or {}
    return {**body, "text": texts.get(language) or texts.get("en") or body.get("text", "")}


def delivery_for(
    *,
    request_id: str,
    referral_id: str,
    recipient: str,
    contact: ContactPoint,
    priority: str,
    body: dict[str, Any],
    trace_context: dict[str, str],
    addressed_to: str,
    hospital: str,
    role: str = "",
    escalation_step: int = 0,
) -> Delivery:
    return Delivery(
        id=Delivery.delivery_id(
            request_id=request_id, recipient=recipient, channel=contact.channel
        ),
        request_id=request_id,
        referral_id=referral_id,
        recipient=recipient,
        channel=contact.channel,
        priority=priority,
        body={**body, "recipient": recipient},
        address=contact.address,
        escalation_step=escalation_step,
        trace_context=trace_context,
        addressed_to=addressed_to,
        hospital=hospital,
        role=role,
    )


def follow_up(
    previous: Delivery,
    *,
    contact: ContactPoint,
    recipient: str | None = None,
    request_id: str | None = None,
    body: dict[str, Any] | None = None,
    escalation_step: int | None = None,
) -> Delivery:
    """A further delivery of the same alert (the next channel after a failure, a step up the
    ladder): same referral, priority, trace, and whom the request named through which role."""
    return delivery_for(
        request_id=request_id or previous.request_id,
        referral_id=previous.referral_id,
        recipient=recipient or previous.recipient,
        contact=contact,
        priority=previous.priority,
        body=previous.body if body is None else body,
        trace_context=previous.trace_context,
        addressed_to=previous.addressed_to,
        hospital=previous.hospital,
        role=previous.role,
        escalation_step=previous.escalation_step if escalation_step is None else escalation_step,
    )


def base_request_id(request_id: str) -> str:
    """A delivery's request id without an escalation's ``#esc<n>`` (the ladder re-sends the
    same request): the request whose final failure is told once."""
    return request_id.split("#")[0]


def request_resource_id(request_id: str) -> str:
    """The CommunicationRequest's id inside a delivery's request id ``<message id>/<request id>``,
    with an escalation's ``#esc<n>`` removed."""
    return base_request_id(request_id).rpartition("/")[2]
