"""What the consult pages say, in Thai and English (the person's language from the web app's
signed identity). No patient data is worded here: the pages show the consult's own facts."""

from __future__ import annotations

from collections.abc import Mapping

from shared.vocabulary.terms import Language, Term

WORDS: Mapping[str, Term] = {
    "queue": Term("Teleconsults", "การปรึกษาแพทย์ทางไกล"),
    "to_answer": Term(
        "To answer (your hospital is the consultant)", "รอตอบ (โรงพยาบาลของท่านเป็นผู้ให้คำปรึกษา)"
    ),
    "asked": Term("Asked by your hospital", "ที่โรงพยาบาลของท่านขอปรึกษา"),
    "none": Term("None.", "ไม่มี"),
    "consult": Term("Teleconsult", "การปรึกษาแพทย์ทางไกล"),
    "stage": Term("Stage", "ขั้นตอน"),
    "requested_at": Term("Requested", "เวลาขอปรึกษา"),
    "from": Term("From", "จาก"),
    "to": Term("To", "ถึง"),
    "referral": Term("Referral", "การส่งต่อ"),
    "steps": Term("Steps", "ลำดับขั้นตอน"),
    "reason": Term("Reason", "เหตุผล"),
    "accept": Term("Accept", "รับปรึกษา"),
    "decline": Term("Decline (the next on the roster is paged)", "ปฏิเสธ (ระบบจะตามแพทย์คนถัดไป)"),
    "cancel": Term("Cancel the consult", "ยกเลิกการปรึกษา"),
    "start_video": Term("Start the video", "เริ่มวิดีโอ"),
    "join_video": Term("Join the video room", "เข้าห้องวิดีโอ"),
    "recommendation": Term("Recommendation", "คำแนะนำการรักษา"),
    "sign": Term("Sign the recommendation", "ลงนามคำแนะนำ"),
    "version": Term("Version", "ฉบับที่"),
    "decision": Term("Thrombolysis", "ยาละลายลิ่มเลือด"),
    "give": Term("Give", "ให้ยา"),
    "do-not-give": Term("Do not give", "ไม่ให้ยา"),
    "drug": Term("Drug", "ยา"),
    "dose": Term("Dose", "ขนาดยา"),
    "transfer": Term("Thrombectomy transfer", "ส่งต่อเพื่อใส่สายสวนลากลิ่มเลือด"),
    "target": Term("Target centre", "โรงพยาบาลปลายทาง"),
    "weight": Term("Weight (kg)", "น้ำหนัก (กก.)"),
    "systolic": Term("Systolic BP (mmHg)", "ความดันตัวบน (มม.ปรอท)"),
    "diastolic": Term("Diastolic BP (mmHg)", "ความดันตัวล่าง (มม.ปรอท)"),
    "glucose": Term("Glucose (mg/dL)", "น้ำตาลในเลือด (มก./ดล.)"),
    "haemorrhage": Term("Haemorrhage on CT", "เลือดออกในสมองจาก CT"),
    "aspects": Term("ASPECTS", "ASPECTS"),
    "lvo": Term("Large-vessel occlusion site", "ตำแหน่งหลอดเลือดใหญ่อุดตัน"),
    "anticoagulant": Term(
        "Anticoagulant (none: leave empty)", "ยาต้านการแข็งตัวของเลือด (ไม่มี: เว้นว่าง)"
    ),
    "nihss": Term("NIHSS items", "คะแนน NIHSS รายข้อ"),
    "checklist": Term("Thrombolysis checklist", "รายการตรวจสอบก่อนให้ยาละลายลิ่มเลือด"),
    "override": Term("Override reason (required if an answer is unknown)", "เหตุผลกรณีมีข้อที่ไม่ทราบ"),
    "yes": Term("Yes", "ใช่"),
    "no": Term("No", "ไม่ใช่"),
    "unknown": Term("Unknown", "ไม่ทราบ"),
    "refused": Term("Not signed:", "ยังไม่ได้ลงนาม:"),
    "confirm_needle": Term(
        "Thrombolysis started as recommended: record the needle now",
        "เริ่มให้ยาละลายลิ่มเลือดตามคำแนะนำแล้ว: บันทึกเวลาให้ยาตอนนี้",
    ),
    "needle_confirmed": Term(
        "Needle confirmed: the referral records it in your name.",
        "ยืนยันการให้ยาแล้ว: บันทึกในการส่งต่อในนามของท่าน",
    ),
    # Consult first: asked before any referral.
    "ask_first": Term("Ask for a teleconsult (no referral yet)", "ขอปรึกษาแพทย์ทางไกล (ยังไม่ส่งต่อ)"),
    "ask_first_hint": Term(
        "The hub's on-call consultant is paged now; a recommendation to transfer makes the "
        "referral.",
        "ระบบจะตามแพทย์ที่ปรึกษาเวรของโรงพยาบาลแม่ข่ายทันที หากแนะนำให้ส่งต่อ ระบบจะสร้างการส่งต่อให้",
    ),
    "not_sent": Term("Not sent:", "ยังไม่ได้ส่ง:"),
    "hn": Term("Hospital number (HN)", "เลขประจำตัวผู้ป่วย (HN)"),
    "lkw": Term("Last known well", "เวลาที่เห็นผู้ป่วยปกติครั้งสุดท้าย"),
    "lkw_uncertain": Term("Uncertain (e.g. woke up with symptoms)", "ไม่แน่นอน (เช่น ตื่นนอนมามีอาการ)"),
    "door_in": Term("Arrived at your hospital", "เวลาที่ผู้ป่วยมาถึงโรงพยาบาล"),
    "nihss_total": Term("NIHSS (if known)", "คะแนน NIHSS (ถ้าทราบ)"),
    "question": Term("Your question", "คำถามที่ต้องการปรึกษา"),
    "consultant_hospital": Term("Hub to consult", "โรงพยาบาลแม่ข่ายที่ปรึกษา"),
    "page_consultant": Term("Page the consultant", "ตามแพทย์ที่ปรึกษา"),
    "unknown_hub": Term(
        "this hospital is not in the network's directory; nobody was paged. Check the hub's id "
        "or choose one from the list.",
        "ไม่พบโรงพยาบาลนี้ในทะเบียนโรงพยาบาลของเครือข่าย ยังไม่ได้ตามแพทย์ท่านใด "
        "กรุณาตรวจสอบรหัสโรงพยาบาลแม่ข่าย หรือเลือกจากรายการ",
    ),
    "no_directory": Term(
        "The network's hospital directory has not reached teleconsult yet: the hub's id is not "
        "checked, so make sure it is spelt right.",
        "ระบบปรึกษาทางไกลยังไม่ได้รับทะเบียนโรงพยาบาลของเครือข่าย จึงตรวจสอบรหัสโรงพยาบาลแม่ข่ายไม่ได้ "
        "กรุณาตรวจสอบการสะกดให้ถูกต้อง",
    ),
    "asked_first": Term("Asked before any referral", "ขอปรึกษาก่อนส่งต่อ"),
    "no_transfer": Term(
        "None: the advice is to treat the patient here (no transfer).",
        "ไม่มี: แนะนำให้รักษาที่โรงพยาบาลของท่าน (ไม่ส่งต่อ)",
    ),
    "no_referral_yet": Term(
        "None yet: a recommendation to transfer makes it.",
        "ยังไม่มี: หากแนะนำให้ส่งต่อ ระบบจะสร้างการส่งต่อให้",
    ),
}


def words(language: str) -> dict[str, str]:
    """Every word of the pages in the person's language (English unless it is Thai)."""
    chosen = Language.THAI if language == Language.THAI.value else Language.ENGLISH
    return {key: term.text(chosen) for key, term in WORDS.items()}
