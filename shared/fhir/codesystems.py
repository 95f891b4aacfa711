"""The project's own CodeSystems, published at their canonical URLs (events, milestones, reasons).

No standard codes exist for these (stroke milestones, decline reasons, last known well, ...), so
the project publishes them: each at ``{PROJECT_CANONICAL}/CodeSystem/<id>`` with the version
``CODESYSTEM_VERSION``, English displays and Thai designations, and served over FHIR REST at
``GET /fhir/CodeSystem/<id>`` by the referral service. Each is generated from the one definition
of its vocabulary (an enum and its terms, in shared.vocabulary or shared.fhir.codes): a code the
services use is a code the network publishes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from fhir.resources.R4B.codesystem import CodeSystem

from shared.fhir.codes import (
    ANTICOAGULANT,
    CODESYSTEM_VERSION,
    CT_HEMORRHAGE,
    EVENT_SYSTEM,
    EVENT_TERMS,
    FAST_ARM,
    FAST_FACE,
    FAST_SPEECH,
    LAST_KNOWN_WELL,
    LVO_SUSPECTED,
    NOTIFICATION_CATEGORY_SYSTEM,
    PROJECT_CANONICAL,
    SERVICE_CATEGORY_SYSTEM,
    STROKE_CAPABILITY_SYSTEM,
    STROKE_OBSERVATION_SYSTEM,
    TELECONSULT,
    EventCode,
)
from shared.vocabulary.capabilities import CAPABILITY_TERMS, StrokeCapability
from shared.vocabulary.decline_reasons import DECLINE_REASON_TERMS, DeclineReason
from shared.vocabulary.milestones import MILESTONE_TERMS, MilestoneCode
from shared.vocabulary.notification_categories import (
    NOTIFICATION_CATEGORY_TERMS,
    NotificationCategory,
)
from shared.vocabulary.terms import Language, Term

PUBLISHER = "Fast Track stroke referral network"
# When the CodeSystems' content last changed (with CODESYSTEM_VERSION).
CODESYSTEM_DATE = "2026-11-23"
THAI = Language.THAI.value

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


Code = TypeVar("Code", bound=StrEnum)


def concepts_of(codes: type[Code], terms: Mapping[Code, Term]) -> tuple[Concept, ...]:
    """Every code of the enum, in its order, as a concept worded by ``terms`` (a code without
    its term fails here, at import, rather than being published without words)."""
    return tuple(
        Concept(code.value, terms[code].english, terms[code].thai, terms[code].definition)
        for code in codes
    )


def _concept_json(concept: Concept) -> dict[str, Any]:
    return {
        "code": concept.code,
        "display": concept.display,
        **({"definition": concept.definition} if concept.definition else {}),
        **({"designation": [{"language": THAI, "value": concept.thai}]} if concept.thai else {}),
    }


# --- event: MessageHeader.eventCoding -------------------------------------------------------

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
    concepts=concepts_of(EventCode, EVENT_TERMS),
)

# --- milestone: the clocks of docs/clinical-metrics.md --------------------------------------

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
    concepts=concepts_of(MilestoneCode, MILESTONE_TERMS),
)

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
    concepts=concepts_of(DeclineReason, DECLINE_REASON_TERMS),
)

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
        Concept(
            FAST_FACE,
            "FAST: face droops",
            "FAST: หน้าเบี้ยว ปากตก",
            "Facial droop on one side (Observation.valueBoolean).",
        ),
        Concept(
            FAST_ARM,
            "FAST: arm weak",
            "FAST: แขนขาอ่อนแรงครึ่งซีก",
            "Weakness of one arm (Observation.valueBoolean).",
        ),
        Concept(
            FAST_SPEECH,
            "FAST: speech disturbed",
            "FAST: พูดไม่ชัด พูดไม่ได้",
            "Slurred speech or aphasia (Observation.valueBoolean).",
        ),
        Concept(
            ANTICOAGULANT,
            "On an anticoagulant",
            "ใช้ยาต้านการแข็งตัวของเลือด",
            "Whether the patient takes an anticoagulant such as warfarin or a DOAC "
            "(Observation.valueBoolean; dataAbsentReason unknown when nobody knows).",
        ),
        Concept(
            CT_HEMORRHAGE,
            "Head CT shows hemorrhage",
            "CT สมองพบเลือดออก",
            "The head CT as the referring hospital read it (Observation.valueBoolean; "
            "dataAbsentReason temp-unknown while not read, not-performed when no CT was done).",
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

NOTIFICATION_CATEGORY = ProjectCodeSystem(
    id="notification-category",
    url=NOTIFICATION_CATEGORY_SYSTEM,
    name="FastTrackNotificationCategory",
    title="Notification categories / ประเภทการแจ้งเตือน",
    description=(
        "CommunicationRequest.category of the notifications the network sends to people. "
        "ประเภทการแจ้งเตือนที่เครือข่ายส่งถึงบุคลากร"
    ),
    concepts=concepts_of(NotificationCategory, NOTIFICATION_CATEGORY_TERMS),
)

# --- stroke-capability: what a hospital can do (Organization) -------------------------------

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
    concepts=concepts_of(StrokeCapability, CAPABILITY_TERMS),
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
