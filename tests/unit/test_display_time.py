"""Times on the web app's pages: the Bangkok clock, 24-hour, intervals cut to the minute (never
rounded up), the Buddhist-era year by the person's setting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.referral.domain import display_time

# 30 Nov 2026 16:26:59 UTC is 23:26 in Bangkok; 17:05 UTC is 00:05 the next day there.
EVENING = datetime(2026, 11, 30, 16, 26, 59, tzinfo=UTC)
PAST_MIDNIGHT = datetime(2026, 11, 30, 17, 5, tzinfo=UTC)
NEW_YEAR = datetime(2026, 12, 31, 17, 0, tzinfo=UTC)

MOMENTS = [
    # (moment, language, Buddhist era, shown)
    (EVENING, "th", True, "30 พ.ย. 2569 23:26"),
    (EVENING, "th", False, "30 พ.ย. 2026 23:26"),
    (EVENING, "en", False, "30 Nov 2026 23:26"),
    (EVENING, "en", True, "30 Nov 2569 23:26"),
    (PAST_MIDNIGHT, "th", True, "1 ธ.ค. 2569 00:05"),
    (NEW_YEAR, "en", True, "1 Jan 2570 00:00"),
]


@pytest.mark.parametrize(("moment", "language", "era", "shown"), MOMENTS)
def test_moments_are_shown_on_the_bangkok_clock_in_the_persons_era(
    moment: datetime, language: str, era: bool, shown: str
) -> None:
    assert display_time.date_and_clock(moment, language=language, buddhist_era=era) == shown


INTERVALS = [
    (timedelta(0), "0:00"),
    (timedelta(seconds=59), "0:00"),
    (timedelta(minutes=59, seconds=59), "0:59"),
    (timedelta(hours=1), "1:00"),
    (timedelta(hours=2, minutes=5, seconds=59), "2:05"),
    (timedelta(hours=26, minutes=1), "26:01"),
    (timedelta(minutes=-30), "-0:30"),
    (timedelta(minutes=-90, seconds=-59), "-1:30"),
]


@pytest.mark.parametrize(("length", "shown"), INTERVALS)
def test_intervals_are_hours_and_whole_minutes_never_rounded_up(
    length: timedelta, shown: str
) -> None:
    assert display_time.interval(length) == shown


def test_the_clock_is_24_hour_bangkok_time() -> None:
    assert display_time.clock(datetime(2026, 11, 30, 6, 5, tzinfo=UTC)) == "13:05"
