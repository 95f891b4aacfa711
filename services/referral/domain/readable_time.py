"""Times as clinicians read them: Bangkok date and clock in English and Thai, whole minutes,
H:MM. Pure functions; every datetime must be time-zone aware."""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.province_time import PROVINCE_ZONE

_THAI_MONTHS = (
    "ม.ค.",
    "ก.พ.",
    "มี.ค.",
    "เม.ย.",
    "พ.ค.",
    "มิ.ย.",
    "ก.ค.",
    "ส.ค.",
    "ก.ย.",
    "ต.ค.",
    "พ.ย.",
    "ธ.ค.",
)
_ENGLISH_MONTHS = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
# Thai dates are written in the Buddhist Era: 2026 CE is 2569 BE.
BUDDHIST_ERA_OFFSET = 543


def whole_minutes(delta: timedelta) -> int:
    """A duration in whole minutes, to the nearest (30 s and over round up, either sign)."""
    seconds = delta.total_seconds()
    sign = -1 if seconds < 0 else 1
    return sign * int((abs(seconds) + 30) // 60)


def minutes_left(delta: timedelta) -> int:
    """Whole minutes left before a deadline, rounded down: never more time than there is."""
    return int(delta.total_seconds() // 60)


def h_mm(minutes: int) -> str:
    """125 -> "2:05"; a negative duration keeps its sign ("-0:30")."""
    sign = "-" if minutes < 0 else ""
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours}:{rest:02d}"


def english_moment(moment: datetime) -> str:
    """ "23:26 on 30 Nov 2026 (Bangkok time)": a date, so a time past midnight is not read
    as today's."""
    local = moment.astimezone(PROVINCE_ZONE)
    month = _ENGLISH_MONTHS[local.month - 1]
    return f"{local:%H:%M} on {local.day} {month} {local.year} (Bangkok time)"


def thai_moment(moment: datetime) -> str:
    """ "30 พ.ย. 2569 เวลา 23:26 น.": day, month, Buddhist Era year, 24-hour clock."""
    local = moment.astimezone(PROVINCE_ZONE)
    month = _THAI_MONTHS[local.month - 1]
    return f"{local.day} {month} {local.year + BUDDHIST_ERA_OFFSET} เวลา {local:%H:%M} น."


def local_iso(moment: datetime) -> str:
    """ISO 8601 on the Bangkok clock, to the second: "2026-11-30T23:26:05+07:00"."""
    return moment.astimezone(PROVINCE_ZONE).isoformat(timespec="seconds")
