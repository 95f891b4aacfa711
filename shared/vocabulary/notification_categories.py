"""What a notification is about (CommunicationRequest.category): the producers set it, the
notifier routes, words and escalates by it."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from shared.vocabulary.terms import Term


class NotificationCategory(StrEnum):
    STROKE_ALERT = "stroke-alert"
    TELECONSULT_REQUEST = "teleconsult-request"
    REFERRAL_STATUS = "referral-status"
    TIME_ALERT = "time-alert"
    HOME_MONITORING = "home-monitoring"


C = NotificationCategory

# Alerts whose sender climbs its own escalation ladder: telemedicine pages a consult's backup and
# the hub's stroke lead itself (each page a new request), so the notifier must not escalate
# these too, or the same person would be paged twice for one step. The notifier still delivers
# them, retries and falls back across channels, and reports their acknowledgement.
ESCALATED_BY_SENDER: frozenset[NotificationCategory] = frozenset({C.TELECONSULT_REQUEST})
NOTIFICATION_CATEGORY_TERMS: Mapping[NotificationCategory, Term] = {
    C.STROKE_ALERT: Term(
        "Stroke alert",
        "แจ้งเตือนทีม stroke",
        "A stroke patient is coming: page the receiving hospital's stroke team.",
    ),
    C.TELECONSULT_REQUEST: Term(
        "Teleconsult request",
        "ขอปรึกษาแพทย์ทางไกล",
        "Page the on-call neurologist for a teleconsult.",
    ),
    C.REFERRAL_STATUS: Term(
        "Referral status",
        "สถานะการส่งต่อ",
        "Tell the referring hospital that its referral was accepted or declined.",
    ),
    C.TIME_ALERT: Term(
        "Time-critical alert",
        "แจ้งเตือนเวลาวิกฤต",
        "A treatment window or a target is about to pass (e.g. LKW + 3.5 h without needle).",
    ),
    C.HOME_MONITORING: Term(
        "Home-isolation monitoring",
        "ติดตามผู้ป่วยแยกกักตัวที่บ้าน",
        "Remind a patient at home to check in; tell the nurses a check-in was missed.",
    ),
}
