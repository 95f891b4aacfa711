"""Routing against a table of clinical cases on a small synthetic network."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.referral.domain.routing import (
    Capability,
    CareModel,
    Hospital,
    RoutingRequest,
    TravelTimes,
    haversine_km,
    recommend,
)

C = Capability
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
NETWORK = {
    h.id: h
    for h in (
        Hospital("spoke-no-ct", "Spoke without CT", 7.58, 99.35, frozenset({C.TELECONSULT})),
        Hospital("spoke-ct", "Spoke with CT", 7.79, 99.63, frozenset({C.CT_24H, C.TELECONSULT})),
        Hospital(
            "spoke-lysis",
            "Spoke that lyses",
            7.41,
            99.51,
            frozenset({C.CT_24H, C.THROMBOLYSIS, C.TELECONSULT}),
        ),
        Hospital(
            "hub",
            "Provincial hub",
            7.56,
            99.61,
            frozenset({C.CT_24H, C.THROMBOLYSIS, C.STROKE_UNIT, C.TELECONSULT}),
        ),
        Hospital(
            "centre",
            "Regional thrombectomy centre",
            7.01,
            100.50,
            frozenset({C.CT_24H, C.THROMBOLYSIS, C.THROMBECTOMY, C.STROKE_UNIT}),
        ),
    )
}
MATRIX = TravelTimes(
    {
        ("spoke-no-ct", "hub"): 35,
        ("spoke-no-ct", "centre"): 150,
        ("spoke-ct", "hub"): 40,
        ("spoke-ct", "centre"): 160,
        ("spoke-lysis", "hub"): 25,
        ("spoke-lysis", "centre"): 140,
        ("hub", "centre"): 120,
    }
)


def _request(
    origin: str, *, lkw_hours_ago: float | None, lvo: bool = False, **kw: object
) -> RoutingRequest:
    lkw = NOW - timedelta(hours=lkw_hours_ago) if lkw_hours_ago is not None else None
    return RoutingRequest(origin, NOW, lkw, 12, lvo, **kw)  # type: ignore[arg-type]


CASES = [
    # id, request, network changes, expected destination, care model, a reason must mention
    (
        "lysis-capable-origin-stays",
        _request("spoke-lysis", lkw_hours_ago=1),
        {},
        "spoke-lysis",
        CareModel.DRIP_AND_STAY,
        "can give thrombolysis itself",
    ),
    (
        "no-ct-spoke-to-nearest-hub",
        _request("spoke-no-ct", lkw_hours_ago=1),
        {},
        "hub",
        CareModel.DRIP_AND_STAY,
        "closest thrombolysis-capable hospital: hub",
    ),
    (
        "no-ct-spoke-lvo-long-bypass-lyse-first",
        _request("spoke-no-ct", lkw_hours_ago=1, lvo=True),
        {},
        "hub",
        CareModel.DRIP_AND_SHIP,
        "would add 115 min",
    ),
    (
        "lysis-origin-lvo-drip-and-ship",
        _request("spoke-lysis", lkw_hours_ago=1, lvo=True),
        {},
        "centre",
        CareModel.DRIP_AND_SHIP,
        "thrombolysis at spoke-lysis, then thrombectomy at centre",
    ),
    (
        "lvo-short-bypass-mothership",
        _request("spoke-ct", lkw_hours_ago=1, lvo=True),
        {"matrix": {("spoke-ct", "centre"): 60}},
        "centre",
        CareModel.MOTHERSHIP,
        "within 30 min and the thrombolysis window",
    ),
    (
        "lvo-bypass-would-lose-lysis-window",
        _request("spoke-ct", lkw_hours_ago=3.8, lvo=True),
        {"matrix": {("spoke-ct", "centre"): 60}},
        "hub",
        CareModel.DRIP_AND_SHIP,
        "lose the thrombolysis window",
    ),
    (
        "late-lvo-thrombectomy-evaluation",
        _request("spoke-ct", lkw_hours_ago=8, lvo=True),
        {},
        "centre",
        CareModel.MOTHERSHIP,
        "thrombectomy evaluation",
    ),
    (
        "outside-windows-stroke-unit",
        _request("spoke-ct", lkw_hours_ago=6, lvo=False),
        {},
        "hub",
        None,
        "outside treatment windows",
    ),
    (
        "beyond-24h-even-with-lvo",
        _request("spoke-ct", lkw_hours_ago=30, lvo=True),
        {},
        "hub",
        None,
        "outside treatment windows",
    ),
    (
        "unknown-lkw-still-routed",
        _request("spoke-no-ct", lkw_hours_ago=None),
        {},
        "hub",
        CareModel.DRIP_AND_STAY,
        "last known well unknown",
    ),
    (
        "hub-ct-down-next-hospital",
        _request("spoke-no-ct", lkw_hours_ago=1),
        {"unavailable": {"hub": {C.CT_24H}}},
        "spoke-lysis",
        CareModel.DRIP_AND_STAY,
        "closest thrombolysis-capable hospital: spoke-lysis",
    ),
    (
        "declined-hub-excluded",
        _request("spoke-no-ct", lkw_hours_ago=1, excluded=frozenset({"hub"})),
        {},
        "spoke-lysis",
        CareModel.DRIP_AND_STAY,
        "spoke-lysis",
    ),
]


@pytest.mark.parametrize(
    ("request_", "changes", "destination", "model", "reason"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_clinical_cases(
    request_: RoutingRequest,
    changes: dict[str, dict[object, object]],
    destination: str,
    model: CareModel | None,
    reason: str,
) -> None:
    network = dict(NETWORK)
    for hospital_id, down in changes.get("unavailable", {}).items():
        h = network[str(hospital_id)]
        network[h.id] = replace(h, unavailable=frozenset(down))  # type: ignore[call-overload]
    matrix = dict(MATRIX._matrix)
    matrix.update(changes.get("matrix", {}))  # type: ignore[arg-type]
    decision = recommend(request_, network, TravelTimes(matrix))
    assert (decision.destination_id, decision.care_model) == (destination, model), decision.reasons
    assert any(reason in r for r in decision.reasons), decision.reasons
    assert destination not in decision.alternatives
    assert not set(decision.alternatives) & request_.excluded


def test_alternatives_are_the_next_candidates_by_travel_time() -> None:
    decision = recommend(_request("spoke-no-ct", lkw_hours_ago=1), NETWORK, MATRIX)
    assert decision.alternatives[0] == "spoke-lysis"
    assert "centre" in decision.alternatives


def test_travel_time_falls_back_to_coordinates() -> None:
    # Trang to Hat Yai is about 120 km in a straight line.
    assert haversine_km(7.5563, 99.6114, 7.0067, 100.4998) == pytest.approx(115, abs=10)
    travel = TravelTimes(road_factor=1.4, average_speed_kmh=60)
    minutes = travel.minutes(NETWORK["spoke-no-ct"], NETWORK["spoke-ct"])
    straight_km = haversine_km(7.58, 99.35, 7.79, 99.63)
    assert 37 < straight_km < 40
    assert minutes == pytest.approx(straight_km * 1.4)  # at 60 km/h a km takes a minute
    nowhere = Hospital("x", "No coordinates", None, None, frozenset())
    assert travel.minutes(NETWORK["hub"], nowhere) is None


def test_matrix_is_symmetric_and_read_from_json() -> None:
    travel = TravelTimes.from_json({"minutes": [{"from": "hub", "to": "centre", "minutes": 99}]})
    assert travel.minutes(NETWORK["centre"], NETWORK["hub"]) == 99


def test_windows_are_computed_across_time_zones() -> None:
    bangkok = timezone(timedelta(hours=7))
    # 05:40 +07:00 is 22:40Z the day before NOW (03:00Z): 4 h 20 min, inside the 4.5 h window.
    inside = RoutingRequest(
        "spoke-lysis", NOW, datetime(2026, 11, 23, 5, 40, tzinfo=bangkok), 8, False
    )
    assert recommend(inside, NETWORK, MATRIX).care_model is CareModel.DRIP_AND_STAY
    # 04:20 +07:00 is 4 h 40 min before NOW: past it, and no LVO suspected.
    late = RoutingRequest(
        "spoke-lysis", NOW, datetime(2026, 11, 23, 4, 20, tzinfo=bangkok), 8, False
    )
    assert recommend(late, NETWORK, MATRIX).care_model is None


def test_unknown_origin_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="Unknown origin hospital 'nowhere'"):
        recommend(_request("nowhere", lkw_hours_ago=1), NETWORK, MATRIX)
