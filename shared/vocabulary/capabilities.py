"""What a hospital of the network can do for a stroke patient (the directory), and what is out
of service right now (availability-changed): routing decides by these."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from shared.vocabulary.terms import Term


class StrokeCapability(StrEnum):
    CT_24H = "ct-24h"
    THROMBOLYSIS = "thrombolysis"
    THROMBECTOMY = "thrombectomy"
    STROKE_UNIT = "stroke-unit"
    TELECONSULT = "teleconsult"


C = StrokeCapability
CAPABILITY_TERMS: Mapping[StrokeCapability, Term] = {
    C.CT_24H: Term("CT available 24 hours", "มี CT พร้อมใช้ตลอด 24 ชั่วโมง"),
    C.THROMBOLYSIS: Term("Thrombolysis", "ให้ยาละลายลิ่มเลือดได้"),
    C.THROMBECTOMY: Term("Mechanical thrombectomy", "ลากลิ่มเลือดด้วยสายสวน (thrombectomy) ได้"),
    C.STROKE_UNIT: Term("Stroke unit", "มีหอผู้ป่วยโรคหลอดเลือดสมอง (stroke unit)"),
    C.TELECONSULT: Term("Telestroke consult", "ให้คำปรึกษาผ่านระบบทางไกลได้"),
}
