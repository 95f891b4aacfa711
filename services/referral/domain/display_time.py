"""Times on the web app's pages: the Bangkok clock, 24-hour, intervals as H:MM cut to the whole
minute (never rounded up: 59 min 50 s is "0:59", never "1:00"), the year in the Buddhist era
when the person's setting says so. Pure functions on time-zone aware datetimes; the browser
script (static/app.js) applies the same rules to times it shows live.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from services.referral.domain.readable_time import BUDDHIST_ERA_OFFSET
from shared.province_time import PROVINCE_ZONE

THAI_MONTHS = (
    "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
    "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.",
)  # fmt: skip
ENGLISH_MONTHS = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip


def clock(moment: datetime) -> str:
    """ "07:05": the Bangkok clock, 24-hour."""
    return f"{moment.astimezone(PROVINCE_ZONE):%H:%M}"


def year(moment: datetime, *, buddhist_era: bool) -> int:
    local_year = moment.astimezone(PROVINCE_ZONE).year
    return local_year + BUDDHIST_ERA_OFFSET if buddhist_era else local_year


def date(moment: datetime, *, language: str, buddhist_era: bool) -> str:
    """ "30 พ.ย. 2569" or "30 Nov 2026" (the era by the setting, not by the language)."""
    local = moment.astimezone(PROVINCE_ZONE)
    months = THAI_MONTHS if language == "th" else ENGLISH_MONTHS
    return f"{local.day} {months[local.month - 1]} {year(moment, buddhist_era=buddhist_era)}"


def date_and_clock(moment: datetime, *, language: str, buddhist_era: bool) -> str:
    return f"{date(moment, language=language, buddhist_era=buddhist_era)} {clock(moment)}"


def interval(length: timedelta) -> str:
    """ "2:05" for 125 min 59 s; "-0:30" for half an hour late. Whole minutes, cut toward zero."""
    seconds = int(length.total_seconds())
    sign = "-" if seconds < 0 else ""
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{sign}{hours}:{minutes:02d}"


def clock_seconds(moment: datetime) -> str:
    """ "07:05:09": the Bangkok clock to the second (the console's hops are seconds apart)."""
    return f"{moment.astimezone(PROVINCE_ZONE):%H:%M:%S}"


def latency(length: timedelta) -> str:
    """ "0.4 s", "12 s", "3:07 min", "2:05 h": a hop's latency, as precise as it is short."""
    seconds = length.total_seconds()
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{int(seconds)} s"
    whole = int(seconds)
    if whole < 3600:
        return f"{whole // 60}:{whole % 60:02d} min"
    return f"{whole // 3600}:{whole % 3600 // 60:02d} h"
