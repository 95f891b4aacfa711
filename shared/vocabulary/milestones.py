"""The milestones of a patient's stroke clock (docs/clinical-metrics.md): the time-stamped steps
from last known well to the loop closed, which every metric and alert is computed from."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from shared.vocabulary.terms import Term


class MilestoneCode(StrEnum):
    LAST_KNOWN_WELL = "lkw"
    DOOR_IN_FIRST = "door-in-first"
    PHYSICIAN_SEEN = "physician-seen"
    CT_STARTED = "ct-started"
    REFERRAL_REQUESTED = "referral-requested"  # milestone 5 is a pair: requested -> accepted
    REFERRAL_ACCEPTED = "referral-accepted"
    NEEDLE = "needle"
    DOOR_OUT_FIRST = "door-out-first"
    DOOR_IN_RECEIVING = "door-in-receiving"
    GROIN_PUNCTURE = "groin-puncture"
    LOOP_CLOSED = "loop-closed"


M = MilestoneCode
MILESTONE_TERMS: Mapping[MilestoneCode, Term] = {
    M.LAST_KNOWN_WELL: Term(
        "Last known well / onset",
        "เวลาที่ผู้ป่วยปกติครั้งสุดท้าย / เวลาเริ่มมีอาการ",
        "Last time the patient was known to be without stroke symptoms; the treatment "
        "windows (thrombolysis 4.5 h, thrombectomy 6-24 h) run from it.",
    ),
    M.DOOR_IN_FIRST: Term(
        "Door-in at the first hospital",
        "ถึงโรงพยาบาลแรก",
        "Arrival at the first hospital (onset-to-door).",
    ),
    M.PHYSICIAN_SEEN: Term(
        "Seen by a physician or the stroke team",
        "แพทย์หรือทีม stroke ตรวจผู้ป่วย",
        "Door-to-physician, target 10 min or less.",
    ),
    M.CT_STARTED: Term("CT started", "เริ่มตรวจ CT สมอง", "Door-to-CT, Thai KPI 25 min or less."),
    M.REFERRAL_REQUESTED: Term(
        "Referral requested",
        "ขอส่งต่อผู้ป่วย",
        "The referring hospital asks the receiving hospital to take the patient.",
    ),
    M.REFERRAL_ACCEPTED: Term(
        "Referral accepted",
        "โรงพยาบาลปลายทางตอบรับการส่งต่อ",
        "Referral response time runs from requested to accepted.",
    ),
    M.NEEDLE: Term(
        "Needle: thrombolytic given",
        "เริ่มให้ยาละลายลิ่มเลือด",
        "Door-to-needle, target 60 min or less.",
    ),
    M.DOOR_OUT_FIRST: Term(
        "Door-out at the first hospital",
        "ออกจากโรงพยาบาลแรก",
        "Door-in-door-out (DIDO), target 120 min or less.",
    ),
    M.DOOR_IN_RECEIVING: Term(
        "Door-in at the receiving hospital",
        "ถึงโรงพยาบาลปลายทาง",
        "Arrival at the receiving hospital, compared with the ETA.",
    ),
    M.GROIN_PUNCTURE: Term(
        "Groin puncture (thrombectomy started)",
        "เริ่มใส่สายสวนหลอดเลือด (groin puncture)",
        "Door-to-device, target 90 min direct or 60 min for transfers.",
    ),
    M.LOOP_CLOSED: Term(
        "Loop closed: outcome returned",
        "แจ้งผลการรักษากลับโรงพยาบาลต้นทางแล้ว",
        "The receiving hospital has returned the outcome to the referring hospital.",
    ),
}
