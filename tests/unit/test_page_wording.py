"""A Thai page shows the routing engine's reasons and the refusals of a person's action in Thai:
the domain says them in codes and parameters, the page words them through the catalogues
(adapters/page_wording.py); English stays the sentences machines read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from services.referral.adapters.catalogues import load_translations
from services.referral.adapters.page_wording import refusal, routing_reason
from services.referral.domain.errors import NoDestination
from services.referral.domain.routing import Hospital, RoutingRequest, TravelTimes, recommend
from services.referral.domain.routing_reasons import ReasonCode, RoutingReason
from shared.errors import DomainError
from shared.province_time import PROVINCE_ZONE
from shared.vocabulary.capabilities import StrokeCapability as S
from shared.workflow.task_state import TaskStatus, TransitionRefused, transition

THAI = load_translations()["th"].gettext
ENGLISH = load_translations()["en"].gettext
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=PROVINCE_ZONE)


@dataclass(frozen=True)
class Case:
    id: str
    reason: RoutingReason
    english: str
    thai: str


CASES = [
    Case(
        "time-since-last-known-well",
        RoutingReason.of(ReasonCode.LKW_ELAPSED, hours=1, minutes="05"),
        "last known well 1 h 05 min ago",
        "ปกติครั้งสุดท้ายเมื่อ 1 ชม. 05 นาทีที่แล้ว",
    ),
    Case(
        "closest-hospital-by-name",
        RoutingReason.of(
            ReasonCode.CLOSEST_LYSIS, hospital="trang-hospital", hospital_minutes="35"
        ).named({"trang-hospital": "โรงพยาบาลตรัง"}.__getitem__),
        "closest thrombolysis-capable hospital: โรงพยาบาลตรัง (35 min)",
        "โรงพยาบาลที่ให้ยาละลายลิ่มเลือดได้ใกล้ที่สุด: โรงพยาบาลตรัง (35 นาที)",
    ),
    Case(
        "excluded-hospitals-by-name",
        RoutingReason.of(ReasonCode.EXCLUDED, hospitals="a, b").named(str.upper),
        "excluded (declined or no answer): A, B",
        "ไม่พิจารณา (ปฏิเสธหรือไม่ตอบรับ): A, B",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_routing_reason_is_worded_in_the_pages_language(case: Case) -> None:
    assert routing_reason(case.reason, ENGLISH) == case.english
    assert routing_reason(case.reason, THAI) == case.thai


def test_every_reason_the_engine_gives_has_thai_words() -> None:
    hospitals = {
        "spoke": Hospital("spoke", "Spoke", 7.4, 99.6, frozenset({S.CT_24H})),
        "hub": Hospital("hub", "Hub", 7.6, 99.6, frozenset({S.CT_24H, S.THROMBOLYSIS})),
    }
    decision = recommend(
        RoutingRequest("spoke", NOW, NOW - timedelta(minutes=65), 9, None),
        hospitals,
        TravelTimes(),
    )
    worded = [routing_reason(reason, THAI) for reason in decision.reasons]
    assert worded[0] == "ปกติครั้งสุดท้ายเมื่อ 1 ชม. 05 นาทีที่แล้ว"
    for english, thai in zip(decision.reasons, worded, strict=True):
        assert thai != str(english)
        assert not any(word in thai for word in ("last known", "hospital", "routed")), thai


def test_a_stored_sentence_from_before_the_codes_is_shown_as_written() -> None:
    assert routing_reason("last known well 0 h 30 min ago", THAI) == (
        "last known well 0 h 30 min ago"
    )


def _refused_transition() -> DomainError:
    with pytest.raises(TransitionRefused) as refused:
        transition(TaskStatus.COMPLETED, TaskStatus.ACCEPTED, status_reason=None)
    return refused.value


def test_refusals_are_worded_in_the_pages_language_and_stay_english_for_machines() -> None:
    no_destination = NoDestination((RoutingReason.of(ReasonCode.NO_STROKE_UNIT),))
    assert no_destination.reason == "No hospital can take the patient now: no stroke unit available"
    assert refusal(no_destination, THAI) == (
        "ขณะนี้ไม่มีโรงพยาบาลที่รับผู้ป่วยได้: ไม่มีหอผู้ป่วยโรคหลอดเลือดสมอง (stroke unit) ที่รับได้"
    )
    refused = _refused_transition()
    assert (
        refused.reason
        == "A referral cannot go from 'completed' to 'accepted'; allowed: entered-in-error"
    )
    assert refusal(refused, THAI).startswith("เปลี่ยนสถานะการส่งต่อจาก 'completed' เป็น 'accepted'")
    assert refusal("Enter a date and time.", THAI) != "Enter a date and time."
