"""Everything the telemedicine service says to people, in Thai and in English, keyed by the
notice's code (``Term.text`` words it in a language). PDPA: no patient data; the link that
travels beside the text opens the consult."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from services.telemedicine.domain.escalation import ConnectFailure
from shared.consult_paging import CONSULT_REQUESTED
from shared.fhir.codes import EventCode
from shared.vocabulary.terms import Language, Term


class Notice(StrEnum):
    """What the service tells people; each is named by the event or step it follows."""

    CONSULT_REQUESTED = EventCode.TELECONSULT_REQUESTED.value
    # To the spoke: nobody at the hub answered yet, the stroke lead is being paged.
    STROKE_LEAD_PAGED = "stroke-lead-paged"
    # To the spoke: the consult failed to connect, why, and whom to call (failed_to_connect).
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


# Why the consult failed to connect, as the spoke is told it.
FAILED_TO_CONNECT_BECAUSE: Mapping[ConnectFailure, Term] = {
    ConnectFailure.NOT_ANSWERED: Term(
        "Teleconsult failed to connect: nobody at the hub answered.",
        "ติดต่อแพทย์ที่ปรึกษาทางไกลไม่สำเร็จ: ไม่มีแพทย์ที่ปรึกษาตอบรับ",
    ),
    ConnectFailure.NOBODY_REACHED: Term(
        "Teleconsult failed to connect: nobody at the hub could be reached.",
        "ติดต่อแพทย์ที่ปรึกษาทางไกลไม่สำเร็จ: ไม่สามารถติดต่อแพทย์ที่ปรึกษาของโรงพยาบาลแม่ข่ายได้",
    ),
    ConnectFailure.DECLINED: Term(
        "Teleconsult failed to connect: the hub declined.",
        "ติดต่อแพทย์ที่ปรึกษาทางไกลไม่สำเร็จ: โรงพยาบาลแม่ข่ายปฏิเสธการปรึกษา",
    ),
}
# Whom to call: the hub at its number; the network's coordination line when the hub has none;
# else the hub by its name (never an empty number).
CALL_THE_HUB_AT = Term(
    "Call the hub, {hub}: {phone}", "กรุณาโทรหาโรงพยาบาลแม่ข่าย {hub} หมายเลข {phone}"
)
CALL_THE_COORDINATION_LINE = Term(
    "Call the network's coordination line: {phone} (no number is configured for the hub, {hub}).",
    "กรุณาโทรหาศูนย์ประสานงานเครือข่าย หมายเลข {phone} (ไม่มีหมายเลขของโรงพยาบาลแม่ข่าย {hub})",
)
CALL_THE_HUB_DIRECTLY = Term(
    "Call the hub, {hub}, directly (no number is configured for it).",
    "กรุณาโทรหาโรงพยาบาลแม่ข่าย {hub} โดยตรง (ไม่มีหมายเลขที่ตั้งค่าไว้)",
)


def failed_to_connect(
    why: ConnectFailure, *, hub: Term, hub_phone: str, coordination_phone: str
) -> Term:
    """What the spoke is told when its consult fails to connect: ``why``, and whom to call
    (``hub``: the hub's name in each language)."""
    hub_phone, coordination_phone = hub_phone.strip(), coordination_phone.strip()
    if hub_phone:
        call, phone = CALL_THE_HUB_AT, hub_phone
    elif coordination_phone:
        call, phone = CALL_THE_COORDINATION_LINE, coordination_phone
    else:
        call, phone = CALL_THE_HUB_DIRECTLY, ""
    because = FAILED_TO_CONNECT_BECAUSE[why]

    def worded(language: Language) -> str:
        advice = call.text(language).format(hub=hub.text(language), phone=phone)
        return f"{because.text(language)} {advice}"

    return Term(worded(Language.ENGLISH), worded(Language.THAI))
