"""What the home-isolation pages say, in Thai and English (the nurses' pages in the person's
language from the web app's signed identity; the patient's form in the language of the
enrolment, Thai by default), in the same Term catalogue as the consult pages."""

from __future__ import annotations

from collections.abc import Mapping

from shared.vocabulary.terms import Language, Term

WORDS: Mapping[str, Term] = {
    "board": Term("Home-isolation monitoring", "ติดตามผู้ป่วยแยกกักตัวที่บ้าน"),
    "enrol": Term("Enrol a patient", "ลงทะเบียนผู้ป่วย"),
    "hn": Term("Hospital number (HN)", "เลขประจำตัวผู้ป่วย (HN)"),
    "patient": Term("Patient (FHIR reference)", "ผู้ป่วย (FHIR reference)"),
    "consultant_hospital": Term("Consultant hospital (red flag)", "โรงพยาบาลที่ปรึกษา (ระดับสีแดง)"),
    "line_user": Term("LINE user id", "LINE user id"),
    "phone": Term("Mobile phone", "เบอร์โทรศัพท์มือถือ"),
    "level": Term("Risk", "ระดับความเสี่ยง"),
    "red": Term("Red", "แดง"),
    "yellow": Term("Yellow", "เหลือง"),
    "green": Term("Green", "เขียว"),
    "missed": Term("Missed check-in", "ไม่ได้รายงานอาการ"),
    "last_check_in": Term("Last check-in", "รายงานล่าสุด"),
    "next_check_in": Term("Next check-in due", "กำหนดรายงานครั้งถัดไป"),
    "no_patients": Term("No patients.", "ไม่มีผู้ป่วย"),
    "check_ins": Term("Check-ins", "การรายงานอาการ"),
    "flag_changes": Term("Flag changes", "การเปลี่ยนระดับความเสี่ยง"),
    "reason": Term("Reason", "เหตุผล"),
    "by": Term("By", "โดย"),
    "rules": Term("the rules", "ตามเกณฑ์"),
    "lower": Term("Lower the flag", "ลดระดับความเสี่ยง"),
    "to": Term("To", "เป็น"),
    "finish": Term("End monitoring", "สิ้นสุดการติดตาม"),
    "finished": Term("Monitoring ended", "สิ้นสุดการติดตามแล้ว"),
    "finish_hint": Term(
        "Reminders and check-ins stop, and the patient leaves the board.",
        "หยุดการเตือนและการรายงานอาการ และนำผู้ป่วยออกจากรายชื่อ",
    ),
    "choose": Term("Choose why", "เลือกเหตุผล"),
    "finish_confirm": Term(
        "I confirm: this patient gets no more reminders",
        "ยืนยัน: ผู้ป่วยรายนี้จะไม่ได้รับการเตือนอีก",
    ),
    "completed": Term("Monitoring period over, patient well", "ครบกำหนดติดตาม ผู้ป่วยอาการดี"),
    "admitted": Term("Admitted to hospital", "รับไว้รักษาในโรงพยาบาล"),
    "withdrawn": Term("Left the programme", "ออกจากการติดตาม"),
    "died": Term("Died", "เสียชีวิต"),
    "check_in_link": Term("The patient's check-in link", "ลิงก์รายงานอาการของผู้ป่วย"),
    "refreshes": Term("The list updates itself every 30 seconds.", "รายชื่อปรับปรุงเองทุก 30 วินาที"),
    "asked_again": Term("asked again", "ขอให้วัดซ้ำ"),
    # The patient's form.
    "check_in": Term("Report your symptoms", "รายงานอาการประจำวัน"),
    "spo2": Term("Oxygen saturation SpO2 (%)", "ค่าออกซิเจนปลายนิ้ว SpO2 (%)"),
    "temperature": Term("Temperature (°C)", "อุณหภูมิร่างกาย (°C)"),
    "respiratory-rate": Term("Breaths per minute", "อัตราการหายใจ (ครั้ง/นาที)"),
    "heart-rate": Term("Pulse (beats per minute)", "ชีพจร (ครั้ง/นาที)"),
    "symptoms": Term("Do you have any of these?", "มีอาการต่อไปนี้หรือไม่"),
    "none": Term("No symptoms", "ไม่มีอาการ"),
    "dyspnoea": Term("Short of breath", "หายใจเหนื่อยหอบ"),
    "chest-pain": Term("Chest pain", "เจ็บแน่นหน้าอก"),
    "confusion": Term("Confused or very drowsy", "สับสน ซึมลง"),
    "fever": Term("Fever", "มีไข้"),
    "cough": Term("Cough", "ไอ"),
    "send": Term("Send", "ส่งรายงาน"),
    "thanks": Term("Thank you: your report is recorded.", "ขอบคุณ บันทึกรายงานอาการเรียบร้อยแล้ว"),
    "measure_again": Term(
        "Please measure again: this value cannot be right:", "กรุณาวัดซ้ำ ค่านี้ไม่น่าถูกต้อง:"
    ),
    "nurse_will_call": Term(
        "A nurse will contact you soon. If you are very short of breath, call 1669.",
        "พยาบาลจะติดต่อกลับโดยเร็ว หากหายใจลำบากมาก โทร 1669",
    ),
    "link_invalid": Term(
        "This link is not valid or has expired. Ask your hospital for a new one.",
        "ลิงก์นี้ใช้ไม่ได้หรือหมดอายุแล้ว กรุณาติดต่อโรงพยาบาลเพื่อขอลิงก์ใหม่",
    ),
    "empty": Term("Enter at least one value or symptom.", "กรุณากรอกอย่างน้อยหนึ่งค่าหรืออาการ"),
}


def monitoring_words(language: str) -> dict[str, str]:
    """Every word of the pages in ``language`` (English unless it is Thai)."""
    chosen = Language.THAI if language == Language.THAI.value else Language.ENGLISH
    return {key: term.text(chosen) for key, term in WORDS.items()}
