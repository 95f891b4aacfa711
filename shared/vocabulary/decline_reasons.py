"""Why a receiving hospital declined a referral (Task.statusReason of referral-declined)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from shared.vocabulary.terms import Term


class DeclineReason(StrEnum):
    NO_BED = "no-bed"
    STROKE_UNIT_FULL = "stroke-unit-full"
    CT_UNAVAILABLE = "ct-unavailable"
    STROKE_TEAM_UNAVAILABLE = "stroke-team-unavailable"
    OUTSIDE_TREATMENT_WINDOW = "outside-treatment-window"
    NOT_A_STROKE = "not-a-stroke"
    TRANSFERRED_ELSEWHERE = "transferred-elsewhere"
    OTHER = "other"


R = DeclineReason
DECLINE_REASON_TERMS: Mapping[DeclineReason, Term] = {
    R.NO_BED: Term("No bed available", "ไม่มีเตียงว่าง"),
    R.STROKE_UNIT_FULL: Term("Stroke unit full", "หอผู้ป่วยโรคหลอดเลือดสมอง (stroke unit) เต็ม"),
    R.CT_UNAVAILABLE: Term("CT scanner unavailable", "เครื่อง CT ใช้งานไม่ได้"),
    R.STROKE_TEAM_UNAVAILABLE: Term("Stroke team unavailable", "ทีม stroke ไม่พร้อม"),
    R.OUTSIDE_TREATMENT_WINDOW: Term("Outside the treatment window", "พ้นช่วงเวลาที่รักษาได้"),
    R.NOT_A_STROKE: Term("Not a stroke", "ไม่ใช่โรคหลอดเลือดสมอง"),
    R.TRANSFERRED_ELSEWHERE: Term("Transferred elsewhere", "ส่งต่อไปโรงพยาบาลอื่นแล้ว"),
    R.OTHER: Term("Other (see Task.statusReason.text)", "อื่น ๆ (ระบุเหตุผล)"),
}
