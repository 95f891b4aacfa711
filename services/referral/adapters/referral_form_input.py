"""The new-referral form's fields read into the intake command (RequestReferral), or the reasons
they cannot be, each tied to its field so the form shows it there. Pure: no request, no
database; the route hands over the posted fields.

Field names: request_id (hidden, one per form: sending twice makes one referral), hn,
hn_unknown, lkw (datetime-local, Bangkok clock), lkw_uncertain, fast (face|arm|speech, repeated),
nihss, nihss_<item> (the calculator: 1a ... 11), systolic, diastolic, glucose, anticoagulant
(yes|no|unknown), ct (not-done|pending|no-hemorrhage|hemorrhage), lvo, teleconsult, owner
(empty: the recommended hospital).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from services.referral.domain.assessment import (
    NIHSS_ITEMS,
    Anticoagulant,
    CtResult,
    FastSign,
    StrokeAssessment,
    nihss_total,
)
from services.referral.domain.commands import MAX_NIHSS, RequestReferral
from services.referral.domain.errors import InvalidReferral
from shared.errors import DomainError
from shared.province_time import PROVINCE_ZONE

Fields = Mapping[str, Sequence[str]]
HN_PATTERN = re.compile(r"^[A-Za-z0-9ก-๙ ./_-]{1,32}$")
REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
YES = "on", "true", "yes", "1"


@dataclass
class FormProblems(Exception):
    """Why the form cannot become a referral: message ids (English; the page translates them)
    by field name, "" for the form as a whole; ``detail`` is a domain refusal (the page words it
    in its language, adapters/page_wording.py)."""

    fields: dict[str, str] = field(default_factory=dict)
    detail: DomainError | None = None


def _one(form: Fields, name: str) -> str:
    values = form.get(name) or ()
    return values[-1].strip() if values else ""


def _flag(form: Fields, name: str) -> bool:
    return _one(form, name).lower() in YES


def _whole(form: Fields, name: str, problems: dict[str, str], low: int, high: int) -> int | None:
    text = _one(form, name)
    if not text:
        return None
    if not re.fullmatch(r"\d{1,4}", text) or not low <= int(text) <= high:
        problems[name] = f"Enter a whole number from {low} to {high}."
        return None
    return int(text)


Choice = TypeVar("Choice", Anticoagulant, CtResult)


def _choice(form: Fields, name: str, kind: type[Choice], problems: dict[str, str]) -> Choice | None:
    text = _one(form, name)
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        problems[name] = "Choose one of the options."
        return None


def last_known_well(text: str) -> datetime:
    """A datetime-local value ("2026-11-30T21:05") on the Bangkok clock; one with a zone is
    taken as it is."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=PROVINCE_ZONE)


def _nihss(form: Fields, problems: dict[str, str]) -> int | None:
    """The total typed, or the calculator's sum; both given and different is a mistake."""
    typed = _whole(form, "nihss", problems, 0, MAX_NIHSS)
    scores: dict[str, int] = {}
    for item in NIHSS_ITEMS:
        score = _whole(form, f"nihss_{item.code}", problems, 0, item.maximum)
        if score is not None:
            scores[item.code] = score
    if not scores:
        return typed
    summed = nihss_total(scores)
    if typed is not None and typed != summed:
        problems["nihss"] = "The NIHSS total differs from the sum of the items."
    return summed


def read_referral_form(
    form: Fields, *, requester: str, person: str, now: datetime, preview: bool = False
) -> RequestReferral:
    """The referral the form asks for, sent by ``person`` in the name of ``requester`` (their
    own hospital, never a field). ``preview``: only what routing needs is required. Raises
    FormProblems."""
    problems: dict[str, str] = {}
    unknown_hn = _flag(form, "hn_unknown")
    hn = "" if unknown_hn else _one(form, "hn")
    if hn and not HN_PATTERN.fullmatch(hn):
        problems["hn"] = "Letters, digits and - / . only, up to 32."
    elif not hn and not unknown_hn and not preview:
        problems["hn"] = "Enter the hospital number, or tick unknown."
    lkw: datetime | None = None
    if _one(form, "lkw"):
        try:
            lkw = last_known_well(_one(form, "lkw"))
        except ValueError:
            problems["lkw"] = "Enter a date and time."
        else:
            if lkw > now:
                problems["lkw"] = "Last known well cannot be in the future."
    elif unknown_hn:
        problems["lkw"] = "A referral without hospital number needs last known well."
    nihss = _nihss(form, problems)
    signs = [s for s in form.get("fast") or () if s]
    if any(s not in FastSign.__members__.values() for s in signs):
        problems["fast"] = "Choose one of the options."
    systolic = _whole(form, "systolic", problems, 0, 999)
    diastolic = _whole(form, "diastolic", problems, 0, 999)
    glucose = _whole(form, "glucose", problems, 0, 9999)
    anticoagulant = _choice(form, "anticoagulant", Anticoagulant, problems)
    ct = _choice(form, "ct", CtResult, problems)
    request_id = _one(form, "request_id") or str(uuid.uuid4())
    if not REQUEST_ID.fullmatch(request_id):
        problems[""] = "The form is out of date: open it again."
    owner = _one(form, "owner")
    if problems:
        raise FormProblems(problems)
    try:
        assessment = StrokeAssessment(
            fast_signs=frozenset(FastSign(s) for s in signs),
            systolic_bp=systolic,
            diastolic_bp=diastolic,
            glucose_mg_dl=glucose,
            anticoagulant=anticoagulant,
            ct=ct,
        )
        return RequestReferral(
            referral_id=str(uuid.uuid4()),
            request_message_id=request_id,
            requester_org=requester,
            owner_org="" if preview else owner,
            patient_hn=hn,
            last_known_well=lkw,
            lkw_source="estimated" if _flag(form, "lkw_uncertain") else "recorded",
            lkw_uncertain=_flag(form, "lkw_uncertain"),
            nihss=nihss,
            suspected_lvo=_flag(form, "lvo"),
            teleconsult_requested=_flag(form, "teleconsult"),
            requested_at=now,
            prealert=unknown_hn or (preview and not hn),
            assessment=assessment,
            requested_by=person,
        )
    except InvalidReferral as refused:
        raise FormProblems({"": "The referral was not sent."}, detail=refused) from None
