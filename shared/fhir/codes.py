"""The project's own CodeSystems and the standard ones it relies on."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from shared.vocabulary.terms import Term

PROJECT_CANONICAL = "https://fasttrack.example.org/fhir"
# A teleconsult Task's outputs (the recommendation's decision, the needle the spoke confirmed).
TELECONSULT_OUTPUT_SYSTEM = f"{PROJECT_CANONICAL}/CodeSystem/teleconsult-output"
EVENT_SYSTEM = f"{PROJECT_CANONICAL}/CodeSystem/event"
CODESYSTEM_VERSION = "0.1.0"
# The provincial network itself, sender of what no single hospital sends (e.g. delivery outcomes).
NETWORK_ORGANIZATION = "Organization/fasttrack-network"
ORGANIZATION_ID_SYSTEM = f"{PROJECT_CANONICAL}/NamingSystem/organization"
# A person's account id in the clinicians' web app (who acknowledged an alert).
WEB_USER_SYSTEM = f"{PROJECT_CANONICAL}/NamingSystem/web-app-user"
RESPONSE_CODE_SYSTEM = "http://hl7.org/fhir/response-code"
SNOMED = "http://snomed.info/sct"
SNOMED_PATIENT_REFERRAL = "3457005"
# ServiceRequest.code of every referral (what is asked for).
PATIENT_REFERRAL_CODE = {
    "coding": [{"system": SNOMED, "code": SNOMED_PATIENT_REFERRAL, "display": "Patient referral"}]
}
LOINC = "http://loinc.org"
LOINC_NIHSS_TOTAL = "72089-6"
LOINC_BLOOD_PRESSURE_PANEL = "85354-9"
LOINC_SYSTOLIC = "8480-6"
LOINC_DIASTOLIC = "8462-4"
LOINC_GLUCOSE = "2339-0"  # Glucose [Mass/volume] in Blood
UCUM = "http://unitsofmeasure.org"
DATA_ABSENT_REASON_SYSTEM = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
# No standard codes exist for these: the project publishes them (LKW, LVO suspicion).
STROKE_OBSERVATION_SYSTEM = f"{PROJECT_CANONICAL}/CodeSystem/stroke-observation"
LAST_KNOWN_WELL = "lkw"
LVO_SUSPECTED = "lvo-suspected"
# Bedside findings without a standard code (valueBoolean; dataAbsentReason when not known).
FAST_FACE = "fast-face"
FAST_ARM = "fast-arm"
FAST_SPEECH = "fast-speech"
ANTICOAGULANT = "anticoagulant"
CT_HEMORRHAGE = "ct-hemorrhage"
SERVICE_CATEGORY_SYSTEM = f"{PROJECT_CANONICAL}/CodeSystem/service-category"
TELECONSULT = "teleconsult"
NOTIFICATION_CATEGORY_SYSTEM = f"{PROJECT_CANONICAL}/CodeSystem/notification-category"
STROKE_CAPABILITY_SYSTEM = f"{PROJECT_CANONICAL}/CodeSystem/stroke-capability"
# Organization extension (valueUri) in the directory: the hospital's own patient identifier
# system (its hospital numbers), accepted in referrals besides the project's.
PATIENT_IDENTIFIER_SYSTEM_URL = f"{PROJECT_CANONICAL}/StructureDefinition/patient-identifier-system"
# Organization extension (repeated valueCode): a capability out of service right now.
UNAVAILABLE_CAPABILITY_URL = f"{PROJECT_CANONICAL}/StructureDefinition/unavailable-capability"


class EventCode(StrEnum):
    """Event codes of the project's CodeSystem (MessageHeader.eventCoding)."""

    STROKE_PREALERT = "stroke-prealert"
    REFERRAL_REQUESTED = "referral-requested"
    REFERRAL_RECEIVED = "referral-received"
    REFERRAL_ACCEPTED = "referral-accepted"
    REFERRAL_DECLINED = "referral-declined"
    REFERRAL_CANCELLED = "referral-cancelled"
    REFERRAL_REDIRECTED = "referral-redirected"
    REFERRAL_COMPLETED = "referral-completed"
    CLINICAL_UPDATE = "clinical-update"
    TRANSFER_DEPARTED = "transfer-departed"
    PATIENT_ARRIVED = "patient-arrived"
    TELECONSULT_REQUESTED = "teleconsult-requested"
    # Every later step of a consult (paged, escalated, accepted, video, failed...).
    TELECONSULT_UPDATED = "teleconsult-updated"
    TELECONSULT_RECOMMENDED = "teleconsult-recommended"
    NOTIFICATION_REQUESTED = "notification-requested"
    NOTIFICATION_SENT = "notification-sent"
    NOTIFICATION_DELIVERED = "notification-delivered"
    NOTIFICATION_FAILED = "notification-failed"
    NOTIFICATION_ACKNOWLEDGED = "notification-acknowledged"
    NOTIFICATION_ESCALATED = "notification-escalated"
    MESSAGE_RESPONSE = "message-response"
    AVAILABILITY_CHANGED = "availability-changed"
    TIME_CRITICAL_ALERT = "time-critical-alert"
    # A signed teleconsult recommendation started the transfer referral to a thrombectomy
    # centre (a step of the original referral's timeline, linking the two).
    TRANSFER_REQUESTED = "transfer-requested"
    # Home-isolation monitoring: a check-in's Observations (from a hospital system or the
    # notifier's LINE webhook), and the episode's Flag when its level changes.
    MONITORING_CHECK_IN = "monitoring-check-in"
    MONITORING_FLAG_CHANGED = "monitoring-flag-changed"
    # The network's hospital directory, whole, each time it is loaded (telemedicine refuses a
    # consult first to a hospital it does not list).
    DIRECTORY_CHANGED = "directory-changed"


E = EventCode
# How each event reads (MessageHeader.eventCoding.display, and the event CodeSystem's Thai).
EVENT_TERMS: Mapping[EventCode, Term] = {
    E.STROKE_PREALERT: Term("Stroke pre-alert", "แจ้งเตือนล่วงหน้าผู้ป่วยโรคหลอดเลือดสมอง"),
    E.REFERRAL_REQUESTED: Term("Referral requested", "ขอส่งต่อผู้ป่วย"),
    E.REFERRAL_RECEIVED: Term("Referral received", "รับทราบคำขอส่งต่อ"),
    E.REFERRAL_ACCEPTED: Term("Referral accepted", "ตอบรับการส่งต่อ"),
    E.REFERRAL_DECLINED: Term("Referral declined", "ปฏิเสธการส่งต่อ"),
    E.REFERRAL_CANCELLED: Term("Referral cancelled", "ยกเลิกการส่งต่อ"),
    E.REFERRAL_REDIRECTED: Term("Referral redirected", "เปลี่ยนโรงพยาบาลปลายทาง"),
    E.REFERRAL_COMPLETED: Term("Referral completed (loop closed)", "ปิดการส่งต่อ (แจ้งผลการรักษากลับ)"),
    E.CLINICAL_UPDATE: Term("Clinical update", "ข้อมูลทางคลินิกเพิ่มเติม"),
    E.TRANSFER_DEPARTED: Term("Transfer departed", "ผู้ป่วยออกเดินทางจากโรงพยาบาลต้นทาง"),
    E.PATIENT_ARRIVED: Term("Patient arrived", "ผู้ป่วยถึงโรงพยาบาลปลายทาง"),
    E.TELECONSULT_REQUESTED: Term("Teleconsult requested", "ขอปรึกษาแพทย์ทางไกล"),
    E.TELECONSULT_UPDATED: Term(
        "Teleconsult step (paged, escalated, accepted, video, failed)",
        "ความคืบหน้าการปรึกษาแพทย์ทางไกล",
    ),
    E.TELECONSULT_RECOMMENDED: Term(
        "Teleconsult recommendation signed", "แพทย์ที่ปรึกษาลงนามคำแนะนำการรักษาแล้ว"
    ),
    E.NOTIFICATION_REQUESTED: Term("Notification requested", "ขอส่งการแจ้งเตือน"),
    E.NOTIFICATION_SENT: Term("Notification sent", "ส่งการแจ้งเตือนแล้ว"),
    E.NOTIFICATION_DELIVERED: Term(
        "Notification delivered to the recipient's device or page",
        "การแจ้งเตือนถึงอุปกรณ์หรือหน้าจอของผู้รับแล้ว",
    ),
    E.NOTIFICATION_FAILED: Term("Notification failed", "ส่งการแจ้งเตือนไม่สำเร็จ"),
    E.NOTIFICATION_ACKNOWLEDGED: Term("Notification acknowledged", "ผู้รับยืนยันรับทราบการแจ้งเตือนแล้ว"),
    E.NOTIFICATION_ESCALATED: Term(
        "Unacknowledged alert escalated", "ยกระดับการแจ้งเตือนที่ยังไม่มีผู้รับทราบ"
    ),
    E.MESSAGE_RESPONSE: Term("Response to a message", "ตอบกลับข้อความ"),
    E.AVAILABILITY_CHANGED: Term(
        "Hospital availability changed (e.g. CT down)",
        "ความพร้อมของโรงพยาบาลเปลี่ยน (เช่น CT ใช้งานไม่ได้)",
    ),
    E.TIME_CRITICAL_ALERT: Term(
        "Time-critical alert (a window or target about to pass)",
        "แจ้งเตือนเวลาวิกฤต (ช่วงเวลาการรักษาหรือเป้าหมายเวลาใกล้ครบ)",
    ),
    E.TRANSFER_REQUESTED: Term(
        "Transfer for thrombectomy requested (the teleconsult's advice)",
        "ขอส่งต่อเพื่อใส่สายสวนลากลิ่มเลือด (ตามคำแนะนำจากการปรึกษาทางไกล)",
    ),
    E.MONITORING_CHECK_IN: Term(
        "Home-isolation check-in (vital signs, symptoms)", "รายงานอาการผู้ป่วยแยกกักตัวที่บ้าน"
    ),
    E.MONITORING_FLAG_CHANGED: Term(
        "Home-isolation flag changed (green, yellow, red)", "ระดับความเสี่ยงผู้ป่วยแยกกักตัวที่บ้านเปลี่ยน"
    ),
    E.DIRECTORY_CHANGED: Term("Hospital directory changed", "ทะเบียนโรงพยาบาลของเครือข่ายเปลี่ยนแปลง"),
}


def organization_reference(organization_id: str) -> str:
    return f"Organization/{organization_id}"
