"""Steps other services report about a referral, read from their FHIR messages: a teleconsult
asked for (telemedicine's Task partOf the referral Task) and what became of a notification
(the notifier's Communication about the referral Task)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.referral.domain.commands import RecordStep
from services.referral.domain.errors import InvalidRequest
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage
from shared.fhir.models import Task
from shared.fhir.notifications import unreached_request
from shared.vocabulary.notification_failures import NotificationFailure
from shared.workflow.consult_state import TASK_STATUS, ConsultStage


def about_an_episode(message: FhirMessage) -> bool:
    """A consult a home-isolation episode's red flag started (its Task's focus is the
    EpisodeOfCare, it is part of no referral): nothing for a referral's timeline."""
    consult = message.focus_json("Task")
    focus = _ref(consult.get("focus")) if consult is not None else None
    return (
        consult is not None
        and not _list(consult.get("partOf"))
        and str(focus).startswith("EpisodeOfCare/")
    )


def asked_first(message: FhirMessage) -> str | None:
    """The id of a consult asked before any referral (its Task is part of none yet and is
    about its own ServiceRequest), else None."""
    consult = message.focus_json("Task")
    focus = _ref(consult.get("focus")) if consult is not None else None
    if (
        consult is None
        or _list(consult.get("partOf"))
        or not str(focus).startswith("ServiceRequest/")
    ):
        return None
    consult_id = consult.get("id")
    return str(consult_id) if consult_id else None


def teleconsult_step(message: FhirMessage, *, referral_id: str | None = None) -> RecordStep:
    """A step of a teleconsult (requested, paged, accepted, video, recommended...): its stage
    (businessStatus), why (statusReason) and who owns it now, at the step's time. Of the
    referral its Task is part of, or of ``referral_id`` (a consult asked first, linked).
    Read from the message's JSON (no model of the Task: about 0.5 ms of CPU, a step or more a
    referral), but a signed recommendation's outputs, read from the Task's model."""
    consult = message.focus_json("Task")
    part_of = _list(consult.get("partOf")) if consult is not None else []
    parent = _field(part_of[0], "reference") if part_of else None
    if parent is None and referral_id is not None:
        parent = f"Task/{referral_id}"
    if consult is None or not isinstance(parent, str) or not parent.startswith("Task/"):
        raise InvalidRequest(f"{message.event.value} needs a Task partOf the referral Task")
    stage = _field(consult.get("businessStatus"), "text")
    reason = _field(consult.get("statusReason"), "text")
    owner = consult.get("owner")
    return _step(
        message,
        referral_id=parent.removeprefix("Task/"),
        occurred_at=_instant(consult.get("lastModified") or consult.get("authoredOn"))
        or datetime.now(UTC),
        detail={
            "consult": str(consult.get("id")),
            "status": consult.get("status"),
            **({"stage": stage} if stage else {}),
            **({"reason": reason} if reason else {}),
            **({"owner": _field(owner, "reference")} if owner else {}),
            # A signed recommendation's decision (teleconsult-recommended): thrombolysis, drug,
            # dose, thrombectomy transfer and centre, version, who signed.
            **({"recommendation": _recommendation(message)} if consult.get("output") else {}),
        },
    )


def teleconsult_steps(message: FhirMessage, *, referral_id: str | None = None) -> list[RecordStep]:
    """The steps a teleconsult message reports: one, or two for a referral's consult opened
    with its first page already sent (telemedicine announces the request and the paging step
    in one teleconsult-requested message, its Task in the paging stage since lastModified): the
    request at the Task's authoredOn, as the spoke's, and the paging at lastModified, as the
    hub's (the Task's owner), each on the timeline at its own time."""
    step = teleconsult_step(message, referral_id=referral_id)
    consult = message.focus_json("Task")
    if (
        step.event is not EventCode.TELECONSULT_REQUESTED
        or consult is None
        or not consult.get("lastModified")
        or step.detail.get("stage") in (None, ConsultStage.REQUESTED.value)
    ):
        return [step]
    requested = RecordStep(
        referral_id=step.referral_id,
        event=EventCode.TELECONSULT_REQUESTED,
        source=step.source,
        message_id=step.message_id,
        occurred_at=_instant(consult.get("authoredOn")) or step.occurred_at,
        detail={
            "consult": step.detail["consult"],
            "status": TASK_STATUS[ConsultStage.REQUESTED].value,
            "stage": ConsultStage.REQUESTED.value,
            **({"owner": step.detail["owner"]} if "owner" in step.detail else {}),
        },
    )
    moved_on = RecordStep(
        referral_id=step.referral_id,
        event=EventCode.TELECONSULT_UPDATED,
        source=str(step.detail.get("owner") or step.source),
        message_id=step.message_id,
        occurred_at=step.occurred_at,
        detail=step.detail,
    )
    return [requested, moved_on]


def _recommendation(message: FhirMessage) -> dict[str, object]:
    """A signed recommendation's outputs (once a consult), from the Task's model: its values'
    FHIR types (dateTime, Quantity) read as the model reads them."""
    task = message.focus_resource(Task)
    return _outputs(task) if task is not None else {}


def _outputs(task: Task) -> dict[str, object]:
    outputs: dict[str, object] = {}
    for output in task.output or []:
        name = output.type.text if output.type and output.type.text else None
        if name is None:
            continue
        if output.valueReference is not None:
            outputs[name] = output.valueReference.reference
        elif output.valueDateTime is not None:
            moment = output.valueDateTime
            outputs[name] = moment.isoformat() if hasattr(moment, "isoformat") else str(moment)
        elif output.valueQuantity is not None:
            outputs[name] = f"{output.valueQuantity.value} {output.valueQuantity.unit}"
        else:
            value = next(
                (
                    getattr(output, field)
                    for field in ("valueString", "valueBoolean", "valueInteger")
                    if getattr(output, field) is not None
                ),
                None,
            )
            outputs[name] = value
    return outputs


def notification_outcome_step(message: FhirMessage) -> RecordStep:
    """What became of a page (the notifier's Communication about the referral Task), read from
    the message's JSON: no model of the Communication is made for it (about 0.5 ms of CPU, two
    outcomes a referral). A relayed record is held as the JSON the notifier's builder wrote (the
    test suite checks it); a message parsed whole is dumped from its validated Bundle."""
    communication = message.focus_json("Communication")
    about = [ref for a in _list(communication and communication.get("about")) if (ref := _ref(a))]
    referral_ref = next((ref for ref in about if ref.startswith("Task/")), None)
    if communication is None or referral_ref is None:
        raise InvalidRequest("notification outcome needs a Communication about a Task")
    detail: dict[str, object] = {
        "recipient": [_field(r, "reference") for r in _list(communication.get("recipient"))],
        "channel": [
            _field(coding, "code")
            for medium in _list(communication.get("medium"))
            for coding in _list(_field(medium, "coding"))
        ],
        "status": communication.get("status"),
    }
    if unreached_request(message) is not None:
        # The request's final failure (no channel): the timeline says nobody was reached.
        detail["outcome"] = NotificationFailure.NOBODY_REACHED.value
    # An acknowledgement names the person who made it (on a live page, on the board): the
    # timeline shows them, as it shows who acknowledged on the board.
    by = _field(communication.get("sender"), "display")
    if by:
        detail["by"] = by
    return _step(
        message,
        referral_id=referral_ref.removeprefix("Task/"),
        occurred_at=_instant(communication.get("sent") or communication.get("received"))
        or datetime.now(UTC),
        detail=detail,
    )


def _field(value: object, name: str) -> Any:
    return value.get(name) if isinstance(value, dict) else None


def _ref(value: object) -> str | None:
    reference = _field(value, "reference")
    return reference if isinstance(reference, str) and reference else None


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _step(
    message: FhirMessage, *, referral_id: str, occurred_at: datetime, detail: dict[str, object]
) -> RecordStep:
    return RecordStep(
        referral_id=referral_id,
        event=message.event,
        source=message.sender,
        message_id=message.message_id,
        occurred_at=occurred_at,
        detail=detail,
    )


def _instant(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value)) if value else None
