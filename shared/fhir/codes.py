"""The project's own CodeSystems and the standard ones it relies on."""

from __future__ import annotations

from enum import StrEnum

PROJECT_CANONICAL = "https://fasttrack.example.org/fhir"
EVENT_SYSTEM = f"{PROJECT_CANONICAL}/CodeSystem/event"
CODESYSTEM_VERSION = "0.1.0"
# The provincial network itself, sender of what no single hospital sends (e.g. delivery outcomes).
NETWORK_ORGANIZATION = "Organization/fasttrack-network"
ORGANIZATION_ID_SYSTEM = f"{PROJECT_CANONICAL}/NamingSystem/organization"
RESPONSE_CODE_SYSTEM = "http://hl7.org/fhir/response-code"
SNOMED = "http://snomed.info/sct"
SNOMED_PATIENT_REFERRAL = "3457005"
# ServiceRequest.code of every referral (what is asked for).
PATIENT_REFERRAL_CODE = {
    "coding": [{"system": SNOMED, "code": SNOMED_PATIENT_REFERRAL, "display": "Patient referral"}]
}
LOINC = "http://loinc.org"
LOINC_NIHSS_TOTAL = "72089-6"
# No standard codes exist for these: the project publishes them (LKW, LVO suspicion).
STROKE_OBSERVATION_SYSTEM = f"{PROJECT_CANONICAL}/CodeSystem/stroke-observation"
LAST_KNOWN_WELL = "lkw"
LVO_SUSPECTED = "lvo-suspected"
SERVICE_CATEGORY_SYSTEM = f"{PROJECT_CANONICAL}/CodeSystem/service-category"
TELECONSULT = "teleconsult"
NOTIFICATION_CATEGORY_SYSTEM = f"{PROJECT_CANONICAL}/CodeSystem/notification-category"
STROKE_CAPABILITY_SYSTEM = f"{PROJECT_CANONICAL}/CodeSystem/stroke-capability"
STROKE_CAPABILITIES = ("ct-24h", "thrombolysis", "thrombectomy", "stroke-unit", "teleconsult")
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
    NOTIFICATION_REQUESTED = "notification-requested"
    NOTIFICATION_SENT = "notification-sent"
    NOTIFICATION_DELIVERED = "notification-delivered"
    NOTIFICATION_FAILED = "notification-failed"
    NOTIFICATION_ACKNOWLEDGED = "notification-acknowledged"
    NOTIFICATION_ESCALATED = "notification-escalated"
    MESSAGE_RESPONSE = "message-response"
    AVAILABILITY_CHANGED = "availability-changed"
    TIME_CRITICAL_ALERT = "time-critical-alert"


EVENT_DISPLAY: dict[EventCode, str] = {
    EventCode.STROKE_PREALERT: "Stroke pre-alert",
    EventCode.REFERRAL_REQUESTED: "Referral requested",
    EventCode.REFERRAL_RECEIVED: "Referral received",
    EventCode.REFERRAL_ACCEPTED: "Referral accepted",
    EventCode.REFERRAL_DECLINED: "Referral declined",
    EventCode.REFERRAL_CANCELLED: "Referral cancelled",
    EventCode.REFERRAL_REDIRECTED: "Referral redirected",
    EventCode.REFERRAL_COMPLETED: "Referral completed (loop closed)",
    EventCode.CLINICAL_UPDATE: "Clinical update",
    EventCode.TRANSFER_DEPARTED: "Transfer departed",
    EventCode.PATIENT_ARRIVED: "Patient arrived",
    EventCode.TELECONSULT_REQUESTED: "Teleconsult requested",
    EventCode.NOTIFICATION_REQUESTED: "Notification requested",
    EventCode.NOTIFICATION_SENT: "Notification sent",
    EventCode.NOTIFICATION_DELIVERED: "Notification delivered to the recipient's device or page",
    EventCode.NOTIFICATION_FAILED: "Notification failed",
    EventCode.NOTIFICATION_ACKNOWLEDGED: "Notification acknowledged",
    EventCode.NOTIFICATION_ESCALATED: "Unacknowledged alert escalated",
    EventCode.MESSAGE_RESPONSE: "Response to a message",
    EventCode.AVAILABILITY_CHANGED: "Hospital availability changed (e.g. CT down)",
    EventCode.TIME_CRITICAL_ALERT: "Time-critical alert (a window or target about to pass)",
}


def organization_reference(organization_id: str) -> str:
    return f"Organization/{organization_id}"
