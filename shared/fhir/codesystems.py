"""The project's own CodeSystems, published at their canonical URLs (events, milestones, reasons).

No standard codes exist for these (stroke milestones, decline reasons, last known well, ...), so
the project publishes them: each at ``{PROJECT_CANONICAL}/CodeSystem/<id>`` with the version
``CODESYSTEM_VERSION``, English displays and Thai designations, and served over FHIR REST at
``GET /fhir/CodeSystem/<id>`` by the referral service. Codes and URLs that already exist in
``shared.fhir.codes`` are taken from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.codesystem import CodeSystem

from shared.fhir.codes import (
    CODESYSTEM_VERSION,
    EVENT_DISPLAY,
    EVENT_SYSTEM,
    LAST_KNOWN_WELL,
    LVO_SUSPECTED,
    NOTIFICATION_CATEGORY_SYSTEM,
    PROJECT_CANONICAL,
    SERVICE_CATEGORY_SYSTEM,
    STROKE_CAPABILITIES,
    STROKE_CAPABILITY_SYSTEM,
    STROKE_OBSERVATION_SYSTEM,
    TELECONSULT,
    EventCode,
)

PUBLISHER = "Fast Track stroke referral network"
# When the CodeSystems' content last changed (with CODESYSTEM_VERSION).
CODESYSTEM_DATE = "2026-11-23"
THAI = "th"

MILESTONE_SYSTEM = f"{PROJECT_CANONICAL}/CodeSystem/milestone"
DECLINE_REASON_SYSTEM = f"{PROJECT_CANONICAL}/CodeSystem/decline-reason"


@dataclass(frozen=True)
class Concept:
    code: str
    display: str
    thai: str | None
    definition: str | None = None


@dataclass(frozen=True)
class ProjectCodeSystem:
    """One CodeSystem: ``id`` is both its resource id and the last segment of its URL."""

    id: str
    url: str
    name: str
    title: str
    description: str
    concepts: tuple[Concept, ...]

    def resource(self) -> CodeSystem:
        """The CodeSystem as a validated FHIR R4B resource."""
        return CodeSystem.model_validate(
            {
                "resourceType": "CodeSystem",
                "id": self.id,
                "url": self.url,
                "version": CODESYSTEM_VERSION,
                "name": self.name,
                "title": self.title,
                "status": "active",
                "experimental": False,
                "date": CODESYSTEM_DATE,
                "publisher": PUBLISHER,
                "description": self.description,
                "caseSensitive": True,
                "content": "complete",
                "count": len(self.concepts),
                "concept": [_concept_json(concept) for concept in self.concepts],
            }
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = self.resource().model_dump(mode="json", exclude_none=True)
        return data


def _concept_json(concept: Concept) -> dict[str, Any]:
    return {
        "code": concept.code,
        "display": concept.display,
        **({"definition": concept.definition} if concept.definition else {}),
        **({"designation": [{"language": THAI, "value": concept.thai}]} if concept.thai else {}),
    }


# --- event: MessageHeader.eventCoding -------------------------------------------------------

EVENT_THAI: Mapping[EventCode, str] = {
    EventCode.STROKE_PREALERT: "แจ้งเตือนล่วงหน้าผู้ป่วยโรคหลอดเลือดสมอง",
    EventCode.REFERRAL_REQUESTED: "ขอส่งต่อผู้ป่วย",
    EventCode.REFERRAL_RECEIVED: "รับทราบคำขอส่งต่อ",
    EventCode.REFERRAL_ACCEPTED: "ตอบรับการส่งต่อ",
    EventCode.REFERRAL_DECLINED: "ปฏิเสธการส่งต่อ",
    EventCode.REFERRAL_CANCELLED: "ยกเลิกการส่งต่อ",
    EventCode.REFERRAL_REDIRECTED: "เปลี่ยนโรงพยาบาลปลายทาง",
    EventCode.REFERRAL_COMPLETED: "ปิดการส่งต่อ (แจ้งผลการรักษากลับ)",
    EventCode.CLINICAL_UPDATE: "ข้อมูลทางคลินิกเพิ่มเติม",
    EventCode.TRANSFER_DEPARTED: "ผู้ป่วยออกเดินทางจากโรงพยาบาลต้นทาง",
    EventCode.PATIENT_ARRIVED: "ผู้ป่วยถึงโรงพยาบาลปลายทาง",
    EventCode.TELECONSULT_REQUESTED: "ขอปรึกษาแพทย์ทางไกล",
    EventCode.NOTIFICATION_REQUESTED: "ขอส่งการแจ้งเตือน",
    EventCode.NOTIFICATION_SENT: "ส่งการแจ้งเตือนแล้ว",
    EventCode.NOTIFICATION_FAILED: "ส่งการแจ้งเตือนไม่สำเร็จ",
    EventCode.NOTIFICATION_DELIVERED: "การแจ้งเตือนถึงอุปกรณ์หรือหน้าจอของผู้รับแล้ว",
    EventCode.NOTIFICATION_ACKNOWLEDGED: "ผู้รับยืนยันรับทราบการแจ้งเตือนแล้ว",
    EventCode.NOTIFICATION_ESCALATED: "ยกระดับการแจ้งเตือนที่ยังไม่มีผู้รับทราบ",
    EventCode.MESSAGE_RESPONSE: "ตอบกลับข้อความ",
    EventCode.AVAILABILITY_CHANGED: "ความพร้อมของโรงพยาบาลเปลี่ยน (เช่น CT ใช้งานไม่ได้)",
    EventCode.TIME_CRITICAL_ALERT: "แจ้งเตือนเวลาวิกฤต (ใกล้หมดช่วงเวลาการรักษา)",
}
# An event code added without a Thai designation is still published (English display only).

EVENT = ProjectCodeSystem(
    id="event",
    url=EVENT_SYSTEM,
    name="FastTrackEvent",
    title="Fast Track message events / เหตุการณ์ของข้อความ Fast Track",
    description=(
        "Event codes of Fast Track FHIR messages (MessageHeader.eventCoding) on Kafka and "
        "POST /fhir/$process-message. "
        "รหัสเหตุการณ์ของข้อความ FHIR ที่ใช้รับส่งระหว่างโรงพยาบาลในเครือข่าย Stroke Fast Track"
    ),
    concepts=tuple(
        Concept(code=event.value, display=EVENT_DISPLAY[event], thai=EVENT_THAI.get(event))
        for event in EventCode
    ),
)

# --- milestone: the clocks of docs/clinical-metrics.md --------------------------------------

LKW_MILESTONE = "lkw"
DOOR_IN_FIRST = "door-in-first"
PHYSICIAN_SEEN = "physician-seen"
CT_STARTED = "ct-started"
REFERRAL_REQUESTED = "referral-requested"
REFERRAL_ACCEPTED = "referral-accepted"
NEEDLE = "needle"
DOOR_OUT_FIRST = "door-out-first"
DOOR_IN_RECEIVING = "door-in-receiving"
GROIN_PUNCTURE = "groin-puncture"
LOOP_CLOSED = "loop-closed"

MILESTONE = ProjectCodeSystem(
    id="milestone",
    url=MILESTONE_SYSTEM,
    name="FastTrackMilestone",
    title="Stroke Fast Track milestones / เวลาสำคัญของ Stroke Fast Track",
    description=(
        "The time-stamped steps of a stroke referral, from last known well to the loop closed, "
        "each stored with its clinical time, recorded time, source and an uncertain flag. "
        "เวลาสำคัญในการดูแลผู้ป่วยโรคหลอดเลือดสมองที่ส่งต่อ ตั้งแต่เวลาที่ปกติครั้งสุดท้าย "
        "จนถึงการแจ้งผลการรักษากลับโรงพยาบาลต้นทาง"
    ),
    concepts=(
        Concept(
            LKW_MILESTONE,
            "Last known well / onset",
            "เวลาที่ผู้ป่วยปกติครั้งสุดท้าย / เวลาเริ่มมีอาการ",
            "Last time the patient was known to be without stroke symptoms; the treatment "
            "windows (thrombolysis 4.5 h, thrombectomy 6-24 h) run from it.",
        ),
        Concept(
            DOOR_IN_FIRST,
            "Door-in at the first hospital",
            "ถึงโรงพยาบาลแรก",
            "Arrival at the first hospital (onset-to-door).",
        ),
        Concept(
            PHYSICIAN_SEEN,
            "Seen by a physician or the stroke team",
            "แพทย์หรือทีม stroke ตรวจผู้ป่วย",
            "Door-to-physician, target 10 min or less.",
        ),
        Concept(
            CT_STARTED,
            "CT started",
            "เริ่มตรวจ CT สมอง",
            "Door-to-CT, Thai KPI 25 min or less.",
        ),
        Concept(
            REFERRAL_REQUESTED,
            "Referral requested",
            "ขอส่งต่อผู้ป่วย",
            "The referring hospital asks the receiving hospital to take the patient.",
        ),
        Concept(
            REFERRAL_ACCEPTED,
            "Referral accepted",
            "โรงพยาบาลปลายทางตอบรับการส่งต่อ",
            "Referral response time runs from requested to accepted.",
        ),
        Concept(
            NEEDLE,
            "Needle: thrombolytic given",
            "เริ่มให้ยาละลายลิ่มเลือด",
            "Door-to-needle, target 60 min or less.",
        ),
        Concept(
            DOOR_OUT_FIRST,
            "Door-out at the first hospital",
            "ออกจากโรงพยาบาลแรก",
            "Door-in-door-out (DIDO), target 120 min or less.",
        ),
        Concept(
            DOOR_IN_RECEIVING,
            "Door-in at the receiving hospital",
            "ถึงโรงพยาบาลปลายทาง",
            "Arrival at the receiving hospital, compared with the ETA.",
        ),
        Concept(
            GROIN_PUNCTURE,
            "Groin puncture (thrombectomy started)",
            "เริ่มใส่สายสวนหลอดเลือด (groin puncture)",
            "Door-to-device, target 90 min direct or 60 min for transfers.",
        ),
        Concept(
            LOOP_CLOSED,
            "Loop closed: outcome returned",
            "แจ้งผลการรักษากลับโรงพยาบาลต้นทางแล้ว",
            "The receiving hospital has returned the outcome to the referring hospital.",
        ),
    ),
)
MILESTONES: tuple[str, ...] = tuple(concept.code for concept in MILESTONE.concepts)

# --- decline-reason: Task.statusReason of a declined referral -------------------------------

DECLINE_REASON = ProjectCodeSystem(
    id="decline-reason",
    url=DECLINE_REASON_SYSTEM,
    name="FastTrackDeclineReason",
    title="Referral decline reasons / เหตุผลที่ปฏิเสธการส่งต่อ",
    description=(
        "Why a receiving hospital declined a stroke referral (Task.statusReason of "
        "referral-declined); the network re-routes the patient. "
        "เหตุผลที่โรงพยาบาลปลายทางปฏิเสธการรับผู้ป่วยโรคหลอดเลือดสมอง"
    ),
    concepts=(
        Concept("no-bed", "No bed available", "ไม่มีเตียงว่าง"),
        Concept(
            "stroke-unit-full",
            "Stroke unit full",
            "หอผู้ป่วยโรคหลอดเลือดสมอง (stroke unit) เต็ม",
        ),
        Concept("ct-unavailable", "CT scanner unavailable", "เครื่อง CT ใช้งานไม่ได้"),
        Concept("stroke-team-unavailable", "Stroke team unavailable", "ทีม stroke ไม่พร้อม"),
        Concept(
            "outside-treatment-window",
            "Outside the treatment window",
            "พ้นช่วงเวลาที่รักษาได้",
        ),
        Concept("not-a-stroke", "Not a stroke", "ไม่ใช่โรคหลอดเลือดสมอง"),
        Concept(
            "transferred-elsewhere",
            "Transferred elsewhere",
            "ส่งต่อไปโรงพยาบาลอื่นแล้ว",
        ),
        Concept("other", "Other (see Task.statusReason.text)", "อื่น ๆ (ระบุเหตุผล)"),
    ),
)
DECLINE_REASONS: tuple[str, ...] = tuple(concept.code for concept in DECLINE_REASON.concepts)

# --- stroke-observation: Observation.code where no standard code exists ---------------------

STROKE_OBSERVATION = ProjectCodeSystem(
    id="stroke-observation",
    url=STROKE_OBSERVATION_SYSTEM,
    name="FastTrackStrokeObservation",
    title="Stroke observations / การประเมินผู้ป่วยโรคหลอดเลือดสมอง",
    description=(
        "Observation codes for facts that have no standard code: last known well "
        "(Observation.effectiveDateTime) and suspected large-vessel occlusion "
        "(Observation.valueBoolean). "
        "รหัสการประเมินที่ไม่มีรหัสมาตรฐาน: เวลาที่ปกติครั้งสุดท้าย และการสงสัยหลอดเลือดใหญ่อุดตัน"
    ),
    concepts=(
        Concept(
            LAST_KNOWN_WELL,
            "Last known well",
            "เวลาที่ผู้ป่วยปกติครั้งสุดท้าย",
            "When the patient was last known to be without stroke symptoms "
            "(Observation.effectiveDateTime, with time zone).",
        ),
        Concept(
            LVO_SUSPECTED,
            "Large-vessel occlusion suspected",
            "สงสัยหลอดเลือดสมองใหญ่อุดตัน (LVO)",
            "Whether a large-vessel occlusion is suspected (Observation.valueBoolean).",
        ),
    ),
)

# --- service-category: ServiceRequest.category ----------------------------------------------

SERVICE_CATEGORY = ProjectCodeSystem(
    id="service-category",
    url=SERVICE_CATEGORY_SYSTEM,
    name="FastTrackServiceCategory",
    title="Service categories / ประเภทบริการ",
    description=(
        "ServiceRequest.category of what a referring hospital asks for besides the transfer. "
        "ประเภทบริการที่โรงพยาบาลต้นทางขอเพิ่มเติมจากการส่งต่อ"
    ),
    concepts=(
        Concept(
            TELECONSULT,
            "Teleconsult (telestroke)",
            "ปรึกษาแพทย์ระบบประสาทผ่านระบบทางไกล",
            "A video consult with the hub's on-call neurologist.",
        ),
    ),
)

# --- notification-category: CommunicationRequest.category -----------------------------------

STROKE_ALERT = "stroke-alert"
TELECONSULT_REQUEST = "teleconsult-request"
REFERRAL_STATUS = "referral-status"
TIME_ALERT = "time-alert"

NOTIFICATION_CATEGORY = ProjectCodeSystem(
    id="notification-category",
    url=NOTIFICATION_CATEGORY_SYSTEM,
    name="FastTrackNotificationCategory",
    title="Notification categories / ประเภทการแจ้งเตือน",
    description=(
        "CommunicationRequest.category of the notifications the network sends to people. "
        "ประเภทการแจ้งเตือนที่เครือข่ายส่งถึงบุคลากร"
    ),
    concepts=(
        Concept(
            STROKE_ALERT,
            "Stroke alert",
            "แจ้งเตือนทีม stroke",
            "A stroke patient is coming: page the receiving hospital's stroke team.",
        ),
        Concept(
            TELECONSULT_REQUEST,
            "Teleconsult request",
            "ขอปรึกษาแพทย์ทางไกล",
            "Page the on-call neurologist for a teleconsult.",
        ),
        Concept(
            REFERRAL_STATUS,
            "Referral status",
            "สถานะการส่งต่อ",
            "Tell the referring hospital that its referral was accepted or declined.",
        ),
        Concept(
            TIME_ALERT,
            "Time-critical alert",
            "แจ้งเตือนเวลาวิกฤต",
            "A treatment window or a target is about to pass (e.g. LKW + 3.5 h without needle).",
        ),
    ),
)

# --- stroke-capability: what a hospital can do (Organization) -------------------------------

CAPABILITY_CONCEPTS: Mapping[str, tuple[str, str]] = {
    "ct-24h": ("CT available 24 hours", "มี CT พร้อมใช้ตลอด 24 ชั่วโมง"),
    "thrombolysis": ("Thrombolysis", "ให้ยาละลายลิ่มเลือดได้"),
    "thrombectomy": ("Mechanical thrombectomy", "ลากลิ่มเลือดด้วยสายสวน (thrombectomy) ได้"),
    "stroke-unit": ("Stroke unit", "มีหอผู้ป่วยโรคหลอดเลือดสมอง (stroke unit)"),
    TELECONSULT: ("Telestroke consult", "ให้คำปรึกษาผ่านระบบทางไกลได้"),
}

STROKE_CAPABILITY = ProjectCodeSystem(
    id="stroke-capability",
    url=STROKE_CAPABILITY_SYSTEM,
    name="FastTrackStrokeCapability",
    title="Stroke capabilities of a hospital / ศักยภาพการดูแลโรคหลอดเลือดสมอง",
    description=(
        "What a hospital of the network can do for a stroke patient (the directory), and what is "
        "out of service right now (Organization extension unavailable-capability). "
        "ศักยภาพของโรงพยาบาลในการดูแลผู้ป่วยโรคหลอดเลือดสมอง และสิ่งที่ใช้งานไม่ได้ในขณะนี้"
    ),
    concepts=tuple(Concept(code, *CAPABILITY_CONCEPTS[code]) for code in STROKE_CAPABILITIES),
)

CODE_SYSTEMS: Mapping[str, ProjectCodeSystem] = {
    code_system.id: code_system
    for code_system in (
        EVENT,
        MILESTONE,
        DECLINE_REASON,
        STROKE_OBSERVATION,
        SERVICE_CATEGORY,
        NOTIFICATION_CATEGORY,
        STROKE_CAPABILITY,
    )
}
