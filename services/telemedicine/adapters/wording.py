"""Everything the telemedicine service says to people, in Thai and in English, keyed by the
notice's code (``Term.text`` words it in a language). PDPA: no patient data; the link that
travels beside the text opens the consult."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from shared.consult_paging import CONSULT_REQUESTED
from shared.fhir.codes import EventCode
from shared.vocabulary.terms import Term


class Notice(StrEnum):
    """What the service tells people; each is named by the event or step it follows."""

    CONSULT_REQUESTED = EventCode.TELECONSULT_REQUESTED.value
    # To the spoke: nobody at the hub answered yet, the stroke lead is being paged.
    STROKE_LEAD_PAGED = "stroke-lead-paged"
    # To the spoke: nobody answered; call the hub (its number follows the text).
    FAILED_TO_CONNECT = "failed-to-connect"
    # To the consultant: a home-isolation patient's flag turned red (the consult's first page).
    MONITORING_RED = "monitoring-red"
    # To the patient: a check-in is due; to the nurses: the patient missed it.
    CHECK_IN_REMINDER = "check-in-reminder"
    CHECK_IN_MISSED = "check-in-missed"


NOTICES: Mapping[Notice, Term] = {
    # The referral service pages a referral's on-call consultant with the same words.
    Notice.CONSULT_REQUESTED: CONSULT_REQUESTED,
    Notice.STROKE_LEAD_PAGED: Term(
        "Teleconsult not answered yet: the hub's stroke lead is being paged.",
        "ยังไม่มีแพทย์ที่ปรึกษาตอบรับ กำลังตามหัวหน้าทีม stroke ของโรงพยาบาลแม่ข่าย",
    ),
    Notice.FAILED_TO_CONNECT: Term(
        "Teleconsult failed to connect: nobody answered. Call the hub:",
        "ติดต่อแพทย์ที่ปรึกษาทางไกลไม่สำเร็จ กรุณาโทรหาโรงพยาบาลแม่ข่าย:",
    ),
    Notice.MONITORING_RED: Term(
        "Teleconsult requested: a home-isolation patient's flag is red.",
        "ขอปรึกษาแพทย์ทางไกล: ผู้ป่วยแยกกักตัวที่บ้านมีอาการระดับสีแดง",
    ),
    Notice.CHECK_IN_REMINDER: Term(
        "Time to report your symptoms (SpO2, temperature). Open the link to check in.",
        "ถึงเวลารายงานอาการ (ค่าออกซิเจนปลายนิ้ว อุณหภูมิ) กรุณากดลิงก์เพื่อรายงาน",
    ),
    Notice.CHECK_IN_MISSED: Term(
        "A home-isolation patient missed a check-in.",
        "ผู้ป่วยแยกกักตัวที่บ้านไม่ได้รายงานอาการตามเวลา",
    ),
}
