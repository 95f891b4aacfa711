"""Everything the referral service says to people, in Thai and in English: one table per
vocabulary, keyed by its code (the event a notice is about, the time-critical alert), and one
function, ``render``, that words a text in a language. PDPA: no patient data in any text; the
link that travels beside the text opens the rest to those allowed to see it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from services.referral.domain.alerts import DIDO_LIMITS, LKW_ALERTS, Alert, AlertCode
from services.referral.domain.readable_time import english_moment, thai_moment
from shared.fhir.codes import EventCode
from shared.vocabulary.notification_categories import (
    NOTIFICATION_CATEGORY_TERMS,
    NotificationCategory,
)
from shared.vocabulary.terms import Language, Term


class Notice(StrEnum):
    """What the service tells people; each is named by the event it follows."""

    STROKE_PREALERT = EventCode.STROKE_PREALERT.value
    STROKE_REFERRAL = EventCode.REFERRAL_REQUESTED.value
    ACCEPTED = EventCode.REFERRAL_ACCEPTED.value
    DECLINED = EventCode.REFERRAL_DECLINED.value
    REROUTED = EventCode.REFERRAL_REDIRECTED.value
    NOT_REROUTED = "referral-not-redirected"  # declined or overdue, and no hospital left


N = Notice
NOTICES: Mapping[Notice, Term] = {
    N.STROKE_PREALERT: Term("Stroke pre-alert {facts}.", "แจ้งเตือนล่วงหน้าผู้ป่วย stroke {facts}"),
    N.STROKE_REFERRAL: Term("Stroke referral {facts}.", "ส่งต่อผู้ป่วย stroke {facts}"),
    N.ACCEPTED: Term(
        "Your stroke referral was accepted{reason}.", "โรงพยาบาลปลายทางตอบรับการส่งต่อแล้ว{reason}"
    ),
    N.DECLINED: Term(
        "Your stroke referral was declined{reason}.", "โรงพยาบาลปลายทางปฏิเสธการส่งต่อ{reason}"
    ),
    N.REROUTED: Term(
        "Referral {why}; re-routed to {destination}.",
        "เปลี่ยนโรงพยาบาลปลายทางเป็น {destination} แล้ว",
    ),
    N.NOT_REROUTED: Term(
        "Referral {why}; no other hospital can take the patient: call the hub.",
        "ไม่มีโรงพยาบาลอื่นรับผู้ป่วยได้ในขณะนี้: โปรดโทรประสานโรงพยาบาลแม่ข่าย",
    ),
}


class Fact(StrEnum):
    """What a stroke team is told about the patient coming (the minimum)."""

    FROM = "from"
    NIHSS = "nihss"
    LKW = "lkw"
    LKW_ESTIMATED = "lkw-estimated"
    REASON = "reason"


FACTS: Mapping[Fact, Term] = {
    Fact.FROM: Term("from {name}", "จาก {name}"),
    Fact.NIHSS: Term("NIHSS {score}", "NIHSS {score}"),
    # With its date: an LKW of 23:50 read after midnight must not pass for today's.
    Fact.LKW: Term("LKW {at}", "ปกติครั้งสุดท้าย {at}"),
    Fact.LKW_ESTIMATED: Term("LKW about {at}, estimated", "ปกติครั้งสุดท้ายประมาณ {at} (เวลาโดยประมาณ)"),
    Fact.REASON: Term(" ({reason})", " ({reason})"),
}
# How the facts of one text are joined, in each language.
SEPARATOR: Mapping[Language, str] = {Language.ENGLISH: ", ", Language.THAI: " "}


@dataclass(frozen=True)
class AlertWording:
    title: Term
    text: Term
    # When the time the alert counts from is uncertain (an estimated LKW or door-in).
    estimated: Term


_LYSIS = AlertWording(
    title=Term("Thrombolysis window closing", "ใกล้หมดช่วงเวลาให้ยาละลายลิ่มเลือด"),
    text=Term(
        "{hours} h since last known well, no thrombolytic given; window closes at {at}.",
        "ผ่านไป {hours} ชั่วโมงนับจากเวลาที่ปกติครั้งสุดท้าย ยังไม่ได้ให้ยาละลายลิ่มเลือด ช่วงเวลาให้ยาจะสิ้นสุด {at}",
    ),
    estimated=Term(
        "{hours} h since last known well (estimated), no thrombolytic given; window closes "
        "about {at} if LKW is right.",
        "ผ่านไป {hours} ชั่วโมงนับจากเวลาที่ปกติครั้งสุดท้าย (เวลาโดยประมาณ) "
        "ยังไม่ได้ให้ยาละลายลิ่มเลือด ช่วงเวลาให้ยาจะสิ้นสุดประมาณ {at} "
        "หากเวลาที่ปกติครั้งสุดท้ายถูกต้อง",
    ),
)
_DIDO = AlertWording(
    title=Term("Door-in-door-out target approaching", "ใกล้ครบเวลา door-in-door-out"),
    text=Term(
        "Door-in-door-out reaches {minutes} min at {at}; patient not yet out.",
        "ผู้ป่วยจะอยู่ในโรงพยาบาลครบ {minutes} นาที (door-in-door-out) {at} ยังไม่ได้ส่งตัวออก",
    ),
    estimated=Term(
        "Door-in-door-out reaches {minutes} min at about {at}; patient not yet out.",
        "ผู้ป่วยจะอยู่ในโรงพยาบาลครบ {minutes} นาที (door-in-door-out) ประมาณ {at} ยังไม่ได้ส่งตัวออก",
    ),
)
_NOT_ACCEPTED = Term(
    "No answer by the deadline, {at}; consider re-routing.",
    "เลยกำหนดตอบรับ {at} แล้ว โปรดพิจารณาส่งต่อโรงพยาบาลอื่น",
)
_LATE = Term(
    "Not arrived at the receiving hospital by the ETA, {at}.",
    "ยังไม่ถึงโรงพยาบาลปลายทางภายในเวลาที่คาดไว้ {at}",
)
_CONSULT_LATE = Term(
    "The consultant was not paged within 15 min of door-in (15 min at {at}); page first, "
    "before the CT.",
    "ยังไม่ได้ขอปรึกษาแพทย์ทางไกลภายใน 15 นาทีหลังผู้ป่วยมาถึง (ครบ 15 นาทีเมื่อ {at}) ควรขอปรึกษาก่อนทำ CT",
)
A = AlertCode
ALERT_WORDING: Mapping[AlertCode, AlertWording] = {
    A.LKW_3H30: _LYSIS,
    A.LKW_4H: _LYSIS,
    A.DIDO_APPROACHING: _DIDO,
    A.DIDO_120: _DIDO,
    A.REFERRAL_NOT_ACCEPTED: AlertWording(
        title=Term("Referral not accepted", "ยังไม่มีการตอบรับการส่งต่อ"),
        text=_NOT_ACCEPTED,
        estimated=_NOT_ACCEPTED,
    ),
    A.LATER_THAN_ETA: AlertWording(
        title=Term("Patient later than the ETA", "ผู้ป่วยมาถึงช้ากว่าเวลาที่คาดไว้"),
        text=_LATE,
        estimated=_LATE,
    ),
    A.CONSULT_REQUESTED_LATE: AlertWording(
        title=Term("Teleconsult requested late", "ขอปรึกษาแพทย์ทางไกลช้า"),
        text=_CONSULT_LATE,
        estimated=_CONSULT_LATE,
    ),
}
# Every time-critical alert, whatever its code: the category's own words, then the alert's.
ALERT = Term(
    "{category} ({code}): {title}. {text}",
    "{category}: {title} {text}",
)


def render(term: Term, language: Language, **facts: object) -> str:
    """``term`` in ``language``, its fields filled in (a datetime as a reader of that language
    reads it, on the Bangkok clock with its date)."""
    moment = thai_moment if language is Language.THAI else english_moment
    shown = {
        name: moment(value) if isinstance(value, datetime) else value
        for name, value in facts.items()
    }
    return term.text(language).format(**shown)


def alert_text(alert: Alert, language: Language) -> str:
    """A time-critical alert, worded for its own code."""
    wording = ALERT_WORDING[alert.code]
    facts = {
        "at": alert.breach_at,
        "hours": f"{dict(LKW_ALERTS).get(alert.code, timedelta()) / timedelta(hours=1):g}",
        "minutes": int(dict(DIDO_LIMITS).get(alert.code, timedelta()) / timedelta(minutes=1)),
    }
    return render(
        ALERT,
        language,
        category=NOTIFICATION_CATEGORY_TERMS[NotificationCategory.TIME_ALERT].text(language),
        code=alert.code.value,
        title=render(wording.title, language),
        text=render(wording.estimated if alert.uncertain else wording.text, language, **facts),
    )
