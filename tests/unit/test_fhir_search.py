"""FHIR search as the R4B specification reads: partial dates and every prefix, paging and
result parameters, unknown parameters strict or lenient (Prefer: handling=lenient)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

import pytest

from services.referral.adapters.fhir_search import (
    MAX_COUNT,
    BadSearch,
    date_range,
    parse_search,
    search_parameters,
    wants_lenient,
)
from shared.province_time import PROVINCE_ZONE

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
BANGKOK = PROVINCE_ZONE
TASK, _ = search_parameters(lambda: NOW)


def _at(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    *,
    zone: tzinfo = BANGKOK,
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=zone)


# value -> (prefix applied, start, end): the range the value stands for at its precision.
DATE_CASES = [
    ("ge2026-11", ("ge", _at(2026, 11, 1), _at(2026, 12, 1))),
    ("ge2026-11-01", ("ge", _at(2026, 11, 1), _at(2026, 11, 2))),
    ("2026", ("eq", _at(2026, 1, 1), _at(2027, 1, 1))),
    ("lt2026-02", ("lt", _at(2026, 2, 1), _at(2026, 3, 1))),
    ("le2026-11-23T09:00+07:00", ("le", _at(2026, 11, 23, 9), _at(2026, 11, 23, 9, 1))),
    (
        "gt2026-11-23T02:00:00Z",
        ("gt", _at(2026, 11, 23, 2, zone=UTC), _at(2026, 11, 23, 2, 0, 1, zone=UTC)),
    ),
    ("ne2026-11-23", ("ne", _at(2026, 11, 23), _at(2026, 11, 24))),
    ("sa2026-11-23", ("gt", _at(2026, 11, 23), _at(2026, 11, 24))),
    ("eb2026-11-23", ("lt", _at(2026, 11, 23), _at(2026, 11, 24))),
    # An unencoded '+' arrives as a space.
    ("ge2026-11-23T09:00:00 07:00", ("ge", _at(2026, 11, 23, 9), _at(2026, 11, 23, 9, 0, 1))),
]


@pytest.mark.parametrize(("value", "expected"), DATE_CASES, ids=[c[0] for c in DATE_CASES])
def test_a_date_at_any_precision_stands_for_the_range_of_that_precision(
    value: str, expected: tuple[str, datetime, datetime]
) -> None:
    assert date_range(value, now=NOW) == expected


def test_ap_widens_the_range_by_a_tenth_of_its_distance_from_now() -> None:
    prefix, start, end = date_range("ap2026-11-20", now=NOW)
    day = _at(2026, 11, 20)
    slack = (NOW - day) / 10
    assert (prefix, start, end) == ("eq", day - slack, day + timedelta(days=1) + slack)


@pytest.mark.parametrize("value", ["2026-13", "ge2026-11-31", "yesterday", "gx2026", "2026-1"])
def test_what_is_not_a_date_is_refused_with_the_form_expected(value: str) -> None:
    with pytest.raises(BadSearch) as refused:
        date_range(value, now=NOW)
    assert refused.value.issue_code == "value"


def test_last_updated_partial_dates_reach_the_query() -> None:
    query = parse_search([("_lastUpdated", "ge2026-11-01")], TASK, base="http://x/fhir")
    assert query.last_updated == [("ge", _at(2026, 11, 1), _at(2026, 11, 2))]


def test_paging_and_result_parameters() -> None:
    query = parse_search(
        [("_count", "500"), ("_offset", "20"), ("_total", "none"), ("_format", "json")],
        TASK,
        base="http://x/fhir",
    )
    assert (query.count, query.offset, query.with_total) == (MAX_COUNT, 20, False)
    with pytest.raises(BadSearch):
        parse_search([("_total", "sometimes")], TASK, base="http://x/fhir")
    with pytest.raises(BadSearch):
        parse_search([("_format", "xml")], TASK, base="http://x/fhir")


def test_unknown_parameters_are_refused_unless_the_client_prefers_lenient_handling() -> None:
    items = [("colour", "red"), ("status", "requested")]
    with pytest.raises(BadSearch) as refused:
        parse_search(items, TASK, base="http://x/fhir")
    assert refused.value.issue_code == "not-supported"
    query = parse_search(items, TASK, base="http://x/fhir", lenient=True)
    assert query.statuses == {"requested"}
    assert query.applied == [("status", "requested")]
    assert wants_lenient("return=representation, handling=lenient")
    assert not wants_lenient("handling=strict")
    assert not wants_lenient(None)
