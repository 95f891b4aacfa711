"""What the referral service says to people, in Thai and English: every code of each of its
vocabularies is worded in both languages, and each time-critical alert says what it is about in
the language the hospital reads (a hand-written table of every alert, in both languages)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from services.referral.adapters.notification_texts import time_alert
from services.referral.adapters.wording import (
    ALERT_WORDING,
    FACTS,
    NOTICES,
    Fact,
    Notice,
    alert_text,
    render,
)
from services.referral.domain.alerts import Alert, AlertCode
from services.referral.domain.model import Referral
from shared.fhir.models import CommunicationRequest
from shared.fhir.notifications import payload_link, payload_texts
from shared.vocabulary.terms import Language, Term
from shared.workflow.task_state import TaskStatus

A = AlertCode
EN, TH = Language.ENGLISH, Language.THAI
BREACH = datetime(2026, 3, 10, 3, 30, tzinfo=UTC)  # 10:30 in Bangkok
WHEN_EN, WHEN_TH = "10:30 on 10 Mar 2026 (Bangkok time)", "10 มี.ค. 2569 เวลา 10:30 น."
LYSIS_TH = "ใกล้หมดช่วงเวลาให้ยาละลายลิ่มเลือด"
DIDO_TH = "ใกล้ครบเวลา door-in-door-out"

# Every alert, as the hospital reads it, in both languages (its time known, not estimated).
EXPECTED: dict[tuple[AlertCode, Language], str] = {
    (A.LKW_3H30, EN): "Time-critical alert (lkw-3h30-no-needle): Thrombolysis window closing. "
    f"3.5 h since last known well, no thrombolytic given; window closes at {WHEN_EN}.",
    (A.LKW_3H30, TH): f"แจ้งเตือนเวลาวิกฤต: {LYSIS_TH} ผ่านไป 3.5 ชั่วโมงนับจากเวลาที่ปกติครั้งสุดท้าย "
    f"ยังไม่ได้ให้ยาละลายลิ่มเลือด ช่วงเวลาให้ยาจะสิ้นสุด {WHEN_TH}",
    (A.LKW_4H, EN): "Time-critical alert (lkw-4h-no-needle): Thrombolysis window closing. "
    f"4 h since last known well, no thrombolytic given; window closes at {WHEN_EN}.",
    (A.LKW_4H, TH): f"แจ้งเตือนเวลาวิกฤต: {LYSIS_TH} ผ่านไป 4 ชั่วโมงนับจากเวลาที่ปกติครั้งสุดท้าย "
    f"ยังไม่ได้ให้ยาละลายลิ่มเลือด ช่วงเวลาให้ยาจะสิ้นสุด {WHEN_TH}",
    (A.DIDO_APPROACHING, EN): "Time-critical alert (dido-approaching-90): Door-in-door-out "
    f"target approaching. Door-in-door-out reaches 90 min at {WHEN_EN}; patient not yet out.",
    (A.DIDO_APPROACHING, TH): f"แจ้งเตือนเวลาวิกฤต: {DIDO_TH} ผู้ป่วยจะอยู่ในโรงพยาบาลครบ 90 นาที "
    f"(door-in-door-out) {WHEN_TH} ยังไม่ได้ส่งตัวออก",
    (A.DIDO_120, EN): "Time-critical alert (dido-approaching-120): Door-in-door-out "
    f"target approaching. Door-in-door-out reaches 120 min at {WHEN_EN}; patient not yet out.",
    (A.DIDO_120, TH): f"แจ้งเตือนเวลาวิกฤต: {DIDO_TH} ผู้ป่วยจะอยู่ในโรงพยาบาลครบ 120 นาที "
    f"(door-in-door-out) {WHEN_TH} ยังไม่ได้ส่งตัวออก",
    (A.REFERRAL_NOT_ACCEPTED, EN): "Time-critical alert (referral-not-accepted): Referral not "
    f"accepted. No answer by the deadline, {WHEN_EN}; consider re-routing.",
    (A.REFERRAL_NOT_ACCEPTED, TH): "แจ้งเตือนเวลาวิกฤต: ยังไม่มีการตอบรับการส่งต่อ "
    f"เลยกำหนดตอบรับ {WHEN_TH} แล้ว โปรดพิจารณาส่งต่อโรงพยาบาลอื่น",
    (A.LATER_THAN_ETA, EN): "Time-critical alert (later-than-eta): Patient later than the ETA. "
    f"Not arrived at the receiving hospital by the ETA, {WHEN_EN}.",
    (A.LATER_THAN_ETA, TH): "แจ้งเตือนเวลาวิกฤต: ผู้ป่วยมาถึงช้ากว่าเวลาที่คาดไว้ "
    f"ยังไม่ถึงโรงพยาบาลปลายทางภายในเวลาที่คาดไว้ {WHEN_TH}",
    (A.CONSULT_REQUESTED_LATE, EN): "Time-critical alert (consult-requested-late): Teleconsult "
    "requested late. The consultant was not paged within 15 min of door-in (15 min at "
    f"{WHEN_EN}); page first, before the CT.",
    (A.CONSULT_REQUESTED_LATE, TH): "แจ้งเตือนเวลาวิกฤต: ขอปรึกษาแพทย์ทางไกลช้า "
    f"ยังไม่ได้ขอปรึกษาแพทย์ทางไกลภายใน 15 นาทีหลังผู้ป่วยมาถึง (ครบ 15 นาทีเมื่อ {WHEN_TH}) "
    "ควรขอปรึกษาก่อนทำ CT",
}
REFERRAL = Referral(
    id="r-1",
    status=TaskStatus.REQUESTED,
    requester_org="sikao-hospital",
    owner_org="trang-hospital",
    patient_hn="HN-6501234",
    last_known_well=None,
    nihss=None,
    suspected_lvo=None,
    teleconsult_requested=False,
    created_at=BREACH,
)


def _alert(code: AlertCode, *, uncertain: bool = False) -> Alert:
    return Alert(code, BREACH - timedelta(minutes=15), uncertain, BREACH)


def test_the_table_names_every_alert_in_both_languages() -> None:
    assert set(EXPECTED) == {(code, language) for code in AlertCode for language in Language}


@pytest.mark.parametrize(("code", "language"), list(EXPECTED), ids=lambda v: str(v))
def test_each_alert_is_sent_worded_for_its_own_code(code: AlertCode, language: Language) -> None:
    message = time_alert(
        REFERRAL,
        alert=_alert(code),
        recipients=["trang-hospital"],
        referral_url="https://ft.example/r/r-1",
        source_endpoint="urn:test",
    )
    request = message.focus_resource(CommunicationRequest)
    assert request is not None
    assert payload_texts(request)[language.value] == EXPECTED[code, language]
    assert payload_link(request) == "https://ft.example/r/r-1"


@pytest.mark.parametrize("code", list(AlertCode), ids=str)
def test_a_thai_alert_carries_no_english_code_and_an_estimated_time_says_so(
    code: AlertCode,
) -> None:
    thai = alert_text(_alert(code), TH)
    assert code.value not in thai
    assert not re.search(r"[A-Za-z]{4,}", thai.replace("door-in-door-out", ""))
    estimated = alert_text(_alert(code, uncertain=True), TH)
    if ALERT_WORDING[code].estimated != ALERT_WORDING[code].text:
        assert "ประมาณ" in estimated
        assert estimated != thai


def test_the_seven_alerts_read_as_five_different_things_in_thai() -> None:
    titles = {render(ALERT_WORDING[code].title, TH) for code in AlertCode}
    assert len(titles) == 5  # the two LKW alerts and the two DIDO alerts share a title


def _both_languages(term: Term) -> bool:
    return bool(term.english.strip() and term.thai.strip())


def test_every_notice_fact_and_alert_is_worded_in_both_languages() -> None:
    assert all(_both_languages(NOTICES[notice]) for notice in Notice)
    assert all(_both_languages(FACTS[fact]) for fact in Fact)
    for code in AlertCode:
        wording = ALERT_WORDING[code]
        assert all(map(_both_languages, (wording.title, wording.text, wording.estimated)))


@pytest.mark.parametrize("notice", list(Notice), ids=str)
@pytest.mark.parametrize("language", list(Language), ids=str)
def test_every_notice_renders_whole(notice: Notice, language: Language) -> None:
    facts = {"facts": "x", "reason": "", "why": "declined", "destination": "Trang"}
    text = render(NOTICES[notice], language, **facts)
    assert text
    assert "{" not in text
    assert "}" not in text
