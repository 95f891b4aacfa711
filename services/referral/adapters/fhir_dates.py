"""FHIR date search values (R4B search.html#date): a prefix, then a date or dateTime at any
precision, standing for the range of that precision; without a zone, the province's."""

from __future__ import annotations

import re
from calendar import monthrange
from datetime import UTC, datetime, timedelta, tzinfo

from shared.province_time import PROVINCE_ZONE


class NotADate(ValueError):
    """Not a FHIR date search value; the message is safe to show the caller."""


_DATE = re.compile(
    r"(?P<prefix>eq|ne|gt|lt|ge|le|sa|eb|ap)?"
    r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,9}))?)?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})?)?)?)?"
)
# How a prefix compares the resource's instant with the value's range (R4B search.html#prefix);
# for an instant, sa is gt and eb is lt; ap is eq on a range widened by 10% of its distance
# from now.
_AS_RANGE_PREFIX = {"sa": "gt", "eb": "lt", "ap": "eq"}


def date_range(value: str, *, now: datetime) -> tuple[str, datetime, datetime]:
    """(prefix, start, end) of a FHIR date search value; raises NotADate when it is not one."""
    match = _DATE.fullmatch(value.strip().replace(" ", "+"))  # an unencoded '+' arrives as ' '
    if match is None:
        raise NotADate(
            f"{value[:40]!r} is not [prefix]<date>: a prefix eq, ne, gt, lt, ge, le, sa, eb or "
            "ap, then a date at any precision, e.g. ge2026-11, ge2026-11-01, "
            "lt2026-11-23T09:00:00+07:00"
        )
    try:
        start, end = _bounds(match)
    except ValueError:
        raise NotADate(f"{value[:40]!r} is not a valid date") from None
    prefix = match["prefix"] or "eq"
    if prefix == "ap":
        slack = abs(now - start) / 10
        start, end = start - slack, end + slack
    return _AS_RANGE_PREFIX.get(prefix, prefix), start, end


def _zone(written: str | None) -> tzinfo:
    """The value's zone: Z, +hh:mm / -hh:mm, or none (the province's zone)."""
    if written is None:
        return PROVINCE_ZONE
    if written == "Z":
        return UTC
    found = datetime.fromisoformat(f"2000-01-01T00:00{written}").tzinfo
    if found is None:
        raise ValueError(f"not a time zone offset: {written!r}")
    return found


def _bounds(match: re.Match[str]) -> tuple[datetime, datetime]:
    zone = _zone(match["zone"])
    year = int(match["year"])
    if match["month"] is None:
        start = datetime(year, 1, 1, tzinfo=zone)
        return start, datetime(year + 1, 1, 1, tzinfo=zone)
    month = int(match["month"])
    if match["day"] is None:
        start = datetime(year, month, 1, tzinfo=zone)
        days = monthrange(year, month)[1]
        return start, start + timedelta(days=days)
    day = int(match["day"])
    if match["hour"] is None:
        start = datetime(year, month, day, tzinfo=zone)
        return start, start + timedelta(days=1)
    fraction = match["fraction"] or ""
    start = datetime(
        year,
        month,
        day,
        int(match["hour"]),
        int(match["minute"]),
        int(match["second"] or 0),
        int((fraction + "000000")[:6]),
        tzinfo=zone,
    )
    if fraction:
        precision = timedelta(microseconds=10 ** (6 - min(len(fraction), 6)))
    elif match["second"] is not None:
        precision = timedelta(seconds=1)
    else:
        precision = timedelta(minutes=1)
    return start, start + precision
