"""A teleconsult asked before any referral (consult first): the spoke pages the hub's on-call
consultant while the patient is still in its emergency room, usually before the CT, and the
consultant's advice decides whether to transfer. What the spoke tells the consultant is here,
with the rules that refuse a request nobody could act on. Plain data, no I/O."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.telemedicine.domain.model import Consult
from services.telemedicine.domain.video import new_room_name
from shared.errors import InvalidInput
from shared.workflow.consult_state import ConsultStage

# Who asks the hub from the web app: the spoke's emergency nurses and doctors.
ASKERS = frozenset({"nurse", "doctor"})
MAX_NIHSS = 42
MAX_QUESTION = 500
# A hospital clock a little ahead of the network's is not a request from the future.
CLOCK_SKEW = timedelta(minutes=2)
# 80 random bits (96 of a hash): a consult's id is not guessed, and fits a phone's width.
_ID_BYTES = 10
_ID_HEX = 24


@dataclass(frozen=True, kw_only=True)
class ConsultQuestion:
    """What the spoke asks with: the patient, the clock, the question."""

    # A Patient reference, and the hospital number the spoke knows the patient by (with its
    # identifier system when it is the hospital's own).
    patient: str
    hospital_number: str
    hospital_number_system: str | None = None
    # Last known well, with whether it is only an estimate (a wake-up stroke); the patient's
    # arrival at the spoke (door-in), from which door-to-request counts.
    last_known_well: datetime | None = None
    lkw_uncertain: bool = False
    door_in: datetime | None = None
    nihss: int | None = None
    # The clinical question, in the clinician's words (patient data: never logged).
    question: str = ""


def check_question(question: ConsultQuestion, *, now: datetime) -> None:
    """Refuses a request the consultant could not act on, naming the field at fault."""
    if not question.hospital_number.strip():
        raise InvalidInput("The patient's hospital number is required", expression="Patient")
    for name, moment in (
        ("last_known_well", question.last_known_well),
        ("door_in", question.door_in),
    ):
        if moment is None:
            continue
        if moment.tzinfo is None:
            raise InvalidInput(f"{name} needs a time zone", expression=name)
        if moment > now + CLOCK_SKEW:
            raise InvalidInput(f"{name} cannot be in the future", expression=name)
    if (
        question.last_known_well is not None
        and question.door_in is not None
        and question.last_known_well > question.door_in
    ):
        raise InvalidInput(
            "last_known_well cannot be after the arrival (door_in)", expression="last_known_well"
        )
    if question.nihss is not None and not 0 <= question.nihss <= MAX_NIHSS:
        raise InvalidInput(f"NIHSS is 0-{MAX_NIHSS}", expression="nihss")
    if len(question.question) > MAX_QUESTION:
        raise InvalidInput(
            f"The question is at most {MAX_QUESTION} characters", expression="question"
        )


@dataclass(frozen=True)
class Hub:
    """A hospital of the network's directory that a spoke may ask for a consult."""

    id: str
    name: str
    name_th: str | None = None
    stroke_hub: bool = False


@dataclass(frozen=True)
class HubDirectory:
    """The hospitals the network's directory lists, by organization id. Empty: telemedicine
    has not received the directory yet, and cannot tell a typo from a hub."""

    hubs: Mapping[str, Hub] = field(default_factory=dict)

    @property
    def received(self) -> bool:
        return bool(self.hubs)


class UnknownHub(InvalidInput):
    """The hospital asked is not in the directory: a typo would page nobody's consultant."""

    def __init__(self, consultant_org: str) -> None:
        super().__init__(
            f"{consultant_org[:64]!r} is not a hospital of the network's directory: check the "
            "hub's organization id",
            expression="Task.owner",
        )
        self.consultant_org = consultant_org


def check_consultant_known(consultant_org: str, directory: HubDirectory) -> None:
    """Refuses a consult to a hospital the directory does not list; with no directory received
    yet, nothing is refused (a consult is never blocked for want of the list)."""
    if directory.received and consultant_org not in directory.hubs:
        raise UnknownHub(consultant_org)


def first_consult_id(*, requester_org: str, request_id: str | None) -> str:
    """A hospital system's request keeps an id of its own Task id (sent twice, it is one
    consult), as does a web form's request token; none given, a random one. Short (a phone
    shows it whole) and unguessable from outside the hospital."""
    if request_id is None:
        return f"tc-{secrets.token_hex(_ID_BYTES)}"
    digest = hashlib.sha256(f"{requester_org}\n{request_id}".encode()).hexdigest()
    return f"tc-{digest[:_ID_HEX]}"


def ask_first(
    *,
    consult_id: str,
    requester_org: str,
    consultant_org: str,
    question: ConsultQuestion,
    at: datetime,
) -> Consult:
    """The consult the spoke asks for before any referral: keyed by its own id (its messages
    stay in order), linked to a referral only once a recommendation to transfer creates one."""
    check_question(question, now=at)
    if requester_org == consultant_org:
        raise InvalidInput(
            "A hospital cannot ask itself for a teleconsult", expression="Task.owner"
        )
    return Consult(
        id=consult_id,
        referral_id=consult_id,
        stage=ConsultStage.REQUESTED,
        requester_org=requester_org,
        consultant_org=consultant_org,
        requested_at=at,
        room=new_room_name(),
        patient=question.patient,
        asked_first=True,
    )
