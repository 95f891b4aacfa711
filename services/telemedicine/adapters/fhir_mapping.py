"""Teleconsult <-> FHIR R4B: a consult Task partOf the referral Task, its steps, and the pages
it sends through the notifier."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.telemedicine.adapters.wording import NOTICES, Notice
from services.telemedicine.domain.model import Consult, ConsultStep
from shared import consult_paging
from shared.fhir import codes
from shared.fhir.codes import EventCode, organization_reference
from shared.fhir.envelope import FhirMessage, ResourceJson, build_message
from shared.fhir.ids import derived_id
from shared.fhir.models import Communication
from shared.fhir.notifications import notification_request_message, unreached_request
from shared.vocabulary.notification_categories import NotificationCategory
from shared.vocabulary.terms import Language, Term
from shared.workflow import consult_ids
from shared.workflow.consult_state import ConsultStage

VIRTUAL_ENCOUNTER = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
    "code": "VR",
    "display": "virtual",
}


@dataclass(frozen=True)
class ReferralParties:
    referral_id: str
    requester_org: str
    owner_org: str
    # The referral Task's ``for`` (a Patient reference), when it names one.
    patient: str | None


def referral_parties(message: FhirMessage) -> ReferralParties | None:
    """Who a referral that asks for a teleconsult is between, and for which patient. Read from
    the message's JSON: no model of the Task or the ServiceRequest is made for it (every
    referral's record; see ``FhirMessage.focus_json``)."""
    task = message.focus_json("Task")
    if task is None:
        return None
    referral_id = task.get("id")
    requester = _reference(task.get("requester"))
    owner = _reference(task.get("owner"))
    if not isinstance(referral_id, str) or requester is None or owner is None:
        return None
    wants_teleconsult = any(
        isinstance(coding, dict)
        and (coding.get("system"), coding.get("code"))
        == (codes.SERVICE_CATEGORY_SYSTEM, codes.TELECONSULT)
        for request in _resources_json(message, "ServiceRequest")
        for category in _list(request.get("category"))
        if isinstance(category, dict)
        for coding in _list(category.get("coding"))
    )
    if not wants_teleconsult:
        return None
    return ReferralParties(
        referral_id=referral_id,
        requester_org=requester.removeprefix("Organization/"),
        owner_org=owner.removeprefix("Organization/"),
        patient=_reference(task.get("for")),
    )


def referral_task_links(message: FhirMessage) -> tuple[str, tuple[str, ...]] | None:
    """The referral Task's id and what it is ``basedOn`` (references), from the JSON; None
    without a Task that has an id."""
    task = message.focus_json("Task")
    referral_id = task.get("id") if task is not None else None
    if task is None or not isinstance(referral_id, str):
        return None
    based_on = (_reference(b) for b in _list(task.get("basedOn")))
    return referral_id, tuple(b for b in based_on if b is not None)


def _resources_json(message: FhirMessage, resource_type: str) -> list[dict[str, Any]]:
    """The entries (after the header) of ``resource_type``, as JSON."""
    return [r for _, r in _entries_json(message)[1:] if r.get("resourceType") == resource_type]


def _entries_json(message: FhirMessage) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(entry, resource) of each entry with a resource, in order."""
    return [
        (entry, entry["resource"])
        for entry in _list(message.to_dict().get("entry"))
        if isinstance(entry, dict) and isinstance(entry.get("resource"), dict)
    ]


def _reference(value: object) -> str | None:
    reference = value.get("reference") if isinstance(value, dict) else None
    return reference if isinstance(reference, str) and reference else None


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def consult_task(consult: Consult, *, step: ConsultStep | None = None) -> ResourceJson:
    """The consult as a FHIR Task: its stage as businessStatus, the step's time as
    lastModified, the accepting consultant as owner. FHIR JSON, written as it is (no model made
    and dumped again on every step; the test suite parses every built message back)."""
    owner = consult.consultant or organization_reference(consult.consultant_org)
    return {
        "resourceType": "Task",
        "id": consult.id,
        "status": consult.status.value,
        "businessStatus": {"text": consult.stage.value},
        **({"statusReason": {"text": consult.status_reason}} if consult.status_reason else {}),
        "intent": "order",
        "priority": "stat",
        **_belongs_to(consult),
        "authoredOn": consult.requested_at.isoformat(),
        **({"lastModified": step.occurred_at.isoformat()} if step is not None else {}),
        "requester": {"reference": organization_reference(consult.requester_org)},
        "owner": {"reference": owner},
    }


def _belongs_to(consult: Consult) -> dict[str, Any]:
    """A referral's consult is part of the referral Task; an episode's is about the
    home-isolation EpisodeOfCare (its red flag started it); a consult asked first is about its
    own ServiceRequest and patient, and part of the referral its advice to transfer started."""
    if consult.episode:
        return {"focus": {"reference": f"EpisodeOfCare/{consult.episode}"}}
    about = (
        {
            "focus": {"reference": f"ServiceRequest/{consult.id}"},
            **({"for": {"reference": consult.patient}} if consult.patient else {}),
        }
        if consult.asked_first
        else {}
    )
    if consult.referral is None:
        return about
    return {**about, "partOf": [{"reference": f"Task/{consult.referral}"}]}


def teleconsult_requested_message(
    consult: Consult,
    *,
    source_endpoint: str,
    supporting: Sequence[Any] = (),
    step: ConsultStep | None = None,
) -> FhirMessage:
    """``supporting``: what a consult asked first was asked with (first_consult_fhir.py).
    ``step``: the step the consult has taken since it was asked (a referral's consult, paging
    its first rung as it opens), announced with the request (lastModified)."""
    return build_message(
        event=EventCode.TELECONSULT_REQUESTED,
        sender=organization_reference(consult.requester_org),
        destinations=[organization_reference(consult.consultant_org)],
        focus=[consult_task(consult, step=step)],
        supporting=supporting,
        source_endpoint=source_endpoint,
        timestamp=consult.requested_at,
    )


def consult_step_message(
    consult: Consult, *, step: ConsultStep, source_endpoint: str
) -> FhirMessage:
    """teleconsult-updated: one step of the consult, with its time; the video session's
    Encounter (class VR) when the video starts."""
    supporting = [video_encounter(consult)] if step.stage is ConsultStage.IN_VIDEO else []
    return build_message(
        event=EventCode.TELECONSULT_UPDATED,
        sender=organization_reference(consult.consultant_org),
        destinations=[
            organization_reference(consult.requester_org),
            organization_reference(consult.consultant_org),
        ],
        focus=[consult_task(consult, step=step)],
        supporting=supporting,
        source_endpoint=source_endpoint,
        timestamp=step.occurred_at,
    )


def video_encounter(consult: Consult) -> ResourceJson:
    return {
        "resourceType": "Encounter",
        "id": derived_id("vr-", consult.id),
        "status": "in-progress",
        "class": VIRTUAL_ENCOUNTER,
        **({"subject": {"reference": consult.patient}} if consult.patient else {}),
        "period": {"start": (consult.video_at or consult.requested_at).isoformat()},
        "serviceProvider": {"reference": organization_reference(consult.consultant_org)},
    }


def page_request_id(consult: Consult, rung: int) -> str:
    return consult_ids.page_request_id(consult.id, rung)


def consultant_page(
    consult: Consult, *, rung: int, paged: str, consult_url: str, source_endpoint: str
) -> FhirMessage:
    """Pages one rung of the ladder (a PractitionerRole the notifier resolves from its rosters);
    no patient data beyond the link. A referral's first rung is paged by the referral service
    with the same builder (shared/consult_paging.py)."""
    return consult_paging.consultant_page(
        request_id=page_request_id(consult, rung),
        referral_id=consult.referral_id,
        requester_org=consult.requester_org,
        paged=paged,
        consult_url=consult_url,
        source_endpoint=source_endpoint,
        notice=NOTICES[Notice.MONITORING_RED if consult.episode else Notice.CONSULT_REQUESTED],
    )


def spoke_alert(
    consult: Consult,
    *,
    notice: Notice,
    consult_url: str,
    source_endpoint: str,
    text: Term | None = None,
) -> FhirMessage:
    """Tells the spoke how its consult fares (the stroke lead paged, failed to connect):
    ``text``, or the notice's own words."""
    words = text or NOTICES[notice]
    return notification_request_message(
        request_id=derived_id(f"cs-{notice.value}-", consult.id),
        category=NotificationCategory.TIME_ALERT,
        referral_id=consult.referral_id,
        recipients=[consult.requester_org],
        english=words.text(Language.ENGLISH),
        thai=words.text(Language.THAI),
        link=consult_url,
        sender=organization_reference(consult.consultant_org),
        source_endpoint=source_endpoint,
    )


def acknowledged_referral(message: FhirMessage) -> str | None:
    """The referral a notification-acknowledged is about (its Communication.about Task)."""
    communication = message.focus_resource(Communication)
    if communication is None:
        return None
    return next(
        (
            str(about.reference).removeprefix("Task/")
            for about in communication.about or []
            if about.reference and about.reference.startswith("Task/")
        ),
        None,
    )


def acknowledged_page(message: FhirMessage) -> tuple[str, str | None] | None:
    """(the page's CommunicationRequest id, the person who acknowledged it) from the
    notifier's notification-acknowledged; None when it answers no request."""
    communication = message.focus_resource(Communication)
    if communication is None:
        return None
    request = next(
        (
            str(based.reference).removeprefix("CommunicationRequest/")
            for based in communication.basedOn or []
            if based.reference and based.reference.startswith("CommunicationRequest/")
        ),
        None,
    )
    if request is None:
        return None
    person = next(
        (
            str(r.reference)
            for r in communication.recipient or []
            if r.reference and r.reference.startswith("Practitioner/")
        ),
        None,
    )
    return request, person


def unreached_referral(message: FhirMessage) -> str | None:
    """The referral a notification-failed is about (its Communication.about Task), read from
    the message's JSON as ``unreached_page`` reads it."""
    communication = message.focus_json("Communication")
    about = communication.get("about") if communication is not None else None
    for reference in about if isinstance(about, list) else []:
        target = reference.get("reference") if isinstance(reference, dict) else None
        if isinstance(target, str) and target.startswith("Task/"):
            return target.removeprefix("Task/")
    return None


def unreached_page(message: FhirMessage) -> str | None:
    """The CommunicationRequest id of a page the notifier says reached nobody at all (its final
    failure); None for one delivery's failure (a fallback channel may follow) or any other."""
    return unreached_request(message)
