"""The province's zone loads from the tzdata package, so it does not depend on the image having
a system zone database (slim and distroless images often have none)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from shared.province_time import PROVINCE_ZONE, PROVINCE_ZONE_NAME


@pytest.fixture
def no_system_zone_database() -> Iterator[None]:
    """zoneinfo searches no system directory: only the tzdata package is left to answer."""
    zoneinfo.reset_tzpath(to=[])
    try:
        yield
    finally:
        zoneinfo.reset_tzpath()


@pytest.mark.usefixtures("no_system_zone_database")
def test_the_province_zone_loads_without_a_system_zone_database() -> None:
    zone = zoneinfo.ZoneInfo.no_cache(PROVINCE_ZONE_NAME)
    assert datetime(2026, 11, 30, 17, 0, tzinfo=UTC).astimezone(zone).hour == 0


def test_the_province_keeps_utc_plus_seven_all_year() -> None:
    for month in (1, 4, 7, 10):
        assert datetime(2026, month, 1, tzinfo=PROVINCE_ZONE).utcoffset() == timedelta(hours=7)
