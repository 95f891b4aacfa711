"""Routing against a table of clinical cases on a small synthetic network."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.referral.domain.routing import (
    CareModel,
    Hospital,
    RoutingRequest,
    TravelTimes,
    haversine_km,
    recommend,
)
from shared.vocabulary.capabilities import StrokeCapability

C = StrokeCapability
BANGKOK = timezone(timedelta(hours=7))
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 10:00 in Thailand
NETWORK = {
    h.id: h
    for h in (
        Hospital("spoke-no-ct", "Spoke without CT", 7.58, 99.35, frozenset({C.TELECONSULT})),
        Hospital("spoke-ct", "Spoke with CT", 7.79, 99.63, frozenset({C.CT_24H, C.TELECONSULT})),
        # Has the drug but no stroke team: lyses on a hub neurologist's advice (telestroke).
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
# Partial on purpose: spoke-to-spoke pairs fall back to coordinates (spoke-no-ct to spoke-lysis
# is about 36 min, just behind the hub's 35).
MINUTES: dict[tuple[str, str], float] = {
    ("spoke-no-ct", "hub"): 35,
    ("spoke-no-ct", "centre"): 150,
    ("spoke-ct", "hub"): 40,
    ("spoke-ct", "centre"): 160,
    ("spoke-lysis", "hub"): 25,
    ("spoke-lysis", "centre"): 140,
    ("hub", "centre"): 120,
}
TRAVEL = TravelTimes(MINUTES)


def _request(
    origin: str,
    hours_ago: float | None,
    lvo: bool | None = False,
    *,
    excluded: frozenset[str] = frozenset(),
) -> RoutingRequest:
    lkw = None if hours_ago is None else NOW - timedelta(hours=hours_ago)
    return RoutingRequest(origin, NOW, lkw, 12, lvo, excluded)


@dataclass(frozen=True)
class Case:
    id: str
    request: RoutingRequest
    destination: str | None
    model: CareModel | None
    mentions: tuple[str, ...]  # the deciding facts, as the reasons must say them
    down: dict[str, frozenset[StrokeCapability]] = field(default_factory=dict)
    minutes: dict[tuple[str, str], float] = field(default_factory=dict)


CASES = [
    Case(
        "drip-and-stay-at-capable-origin",
        _request("hub", 1),
        "hub",
        CareModel.DRIP_AND_STAY,
        ("hub can give thrombolysis itself", "last known well 1 h 00 min ago"),
    ),
    Case(
        "telestroke-drip-and-stay-at-spoke-with-drug",
        _request("spoke-lysis", 1),
        "spoke-lysis",
        CareModel.TELESTROKE_DRIP_AND_STAY,
        ("spoke-lysis can give thrombolysis itself on a neurologist's advice by telestroke",),
    ),
    Case(
        "ct-and-teleconsult-without-drug-is-no-telestroke",
        _request("spoke-ct", 1),
        "hub",
        CareModel.DRIP_AND_STAY,
        ("no thrombolytic on site: no telestroke", "closest thrombolysis-capable hospital: hub"),
    ),
    Case(
        "no-ct-spoke-to-nearest-thrombolysis-hub",
        _request("spoke-no-ct", 1),
        "hub",
        CareModel.DRIP_AND_STAY,
        ("spoke-no-ct has no CT available", "closest thrombolysis-capable hospital: hub (35 min)"),
    ),
    Case(
        "no-ct-spoke-lvo-long-bypass-drip-and-ship-via-hub",
        _request("spoke-no-ct", 1, lvo=True),
        "hub",
        CareModel.DRIP_AND_SHIP,
        ("would add 115 min: lyse first", "next step: thrombectomy at centre (120 min) from hub"),
    ),
    Case(
        "capable-origin-lvo-lyses-then-ships",
        _request("spoke-lysis", 1, lvo=True),
        "centre",
        CareModel.DRIP_AND_SHIP,
        ("thrombolysis at spoke-lysis, then thrombectomy at centre (140 min)",),
    ),
    Case(
        "lvo-short-bypass-mothership",
        _request("spoke-ct", 1, lvo=True),
        "centre",
        CareModel.MOTHERSHIP,
        ("adds 20 min (<= 30) over hub (40 min); thrombolysis kept",),
        minutes={("spoke-ct", "centre"): 60},
    ),
    Case(
        "lvo-short-bypass-would-lose-thrombolysis-hub-first",
        _request("spoke-ct", 3.8, lvo=True),  # hub at 4 h 26 min, centre at 4 h 48 min
        "hub",
        CareModel.DRIP_AND_SHIP,
        ("would add 20 min and lose thrombolysis",),
        minutes={("spoke-ct", "centre"): 60},
    ),
    Case(
        "lvo-4-to-6h-mothership-within-thrombectomy-window",
        _request("spoke-ct", 4.6, lvo=True),
        "centre",
        CareModel.MOTHERSHIP,
        ("thrombolysis not possible: window passed", "within the 6 h thrombectomy window"),
        minutes={("spoke-ct", "centre"): 60},
    ),
    Case(
        "lvo-6-to-24h-thrombectomy-evaluation",
        _request("spoke-ct", 8, lvo=True),
        "centre",
        CareModel.MOTHERSHIP,
        ("thrombectomy evaluation (selected patients): centre (160 min)",),
    ),
    Case(
        "late-lvo-without-thrombectomy-centre-admitted",
        _request("spoke-ct", 8, lvo=True),
        "hub",
        None,
        ("no thrombectomy centre reachable", "out of service now: centre (thrombectomy)"),
        down={"centre": frozenset({C.THROMBECTOMY})},
    ),
    Case(
        "would-arrive-after-thrombolysis-window",
        _request("spoke-no-ct", 4.2),  # the hub is 35 min away: 4 h 47 min on arrival
        "hub",
        None,
        ("no thrombolysis-capable hospital reachable within the thrombolysis window",),
    ),
    Case(
        "outside-windows-no-lvo",
        _request("spoke-ct", 6),
        "hub",
        None,
        ("outside treatment windows: past 4.5 h and no LVO suspected",),
    ),
    Case(
        "outside-windows-lvo-past-24h",
        _request("spoke-ct", 30, lvo=True),
        "hub",
        None,
        ("outside treatment windows: LVO suspected but past 24 h",),
    ),
    Case(
        "unknown-lkw-routed-as-eligible",
        _request("spoke-no-ct", None, lvo=None),
        "hub",
        CareModel.DRIP_AND_STAY,
        ("last known well unknown", "LVO suspicion not recorded"),
    ),
    Case(
        "unknown-lkw-lvo-bypass-says-window-not-checked",
        _request("spoke-ct", None, lvo=True),
        "centre",
        CareModel.MOTHERSHIP,
        ("last known well unknown", "thrombolysis not checked (LKW unknown)"),
        minutes={("spoke-ct", "centre"): 60},
    ),
    Case(
        "hub-ct-down-next-hospital",
        _request("spoke-no-ct", 1),
        "spoke-lysis",
        CareModel.TELESTROKE_DRIP_AND_STAY,
        ("out of service now: hub (ct-24h)", "closest thrombolysis-capable hospital: spoke-lysis"),
        down={"hub": frozenset({C.CT_24H})},
    ),
    Case(
        "declined-hub-excluded-next-alternative",
        _request("spoke-no-ct", 1, excluded=frozenset({"hub"})),
        "spoke-lysis",
        CareModel.TELESTROKE_DRIP_AND_STAY,
        ("excluded (declined or no answer): hub", "closest thrombolysis-capable hospital: spoke"),
    ),
    Case(
        "time-zones-lkw-bangkok-now-utc",
        # 05:40 +07:00 is 22:40Z: 4 h 20 min before NOW (03:00Z), inside the 4.5 h window.
        replace(
            _request("hub", None), last_known_well=datetime(2026, 11, 23, 5, 40, tzinfo=BANGKOK)
        ),
        "hub",
        CareModel.DRIP_AND_STAY,
        ("last known well 4 h 20 min ago",),
    ),
    Case(
        "time-zones-lkw-bangkok-past-window",
        # 05:20 +07:00 is 22:20Z: 4 h 40 min before NOW (03:00Z), just past the 4.5 h window.
        replace(
            _request("hub", None), last_known_well=datetime(2026, 11, 23, 5, 20, tzinfo=BANGKOK)
        ),
        "hub",
        None,
        ("last known well 4 h 40 min ago", "outside treatment windows"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_clinical_cases(case: Case) -> None:
    network = {
        hospital_id: replace(hospital, unavailable=case.down.get(hospital_id, frozenset()))
        for hospital_id, hospital in NETWORK.items()
    }
    decision = recommend(case.request, network, TravelTimes({**MINUTES, **case.minutes}))
    assert (decision.destination_id, decision.care_model) == (case.destination, case.model), (
        decision.reasons
    )
    said = [str(reason) for reason in decision.reasons]  # the English sentences
    for fact in case.mentions:
        assert any(fact in reason for reason in said), (fact, said)
    assert decision.destination_id not in case.request.excluded
    assert decision.destination_id not in decision.alternatives
    assert not set(decision.alternatives) & (case.request.excluded | {case.request.origin_id})


def test_alternatives_are_the_next_candidates_by_travel_time() -> None:
    decision = recommend(_request("spoke-no-ct", 1, lvo=True), NETWORK, TRAVEL)
    assert decision.destination_id == "hub"
    assert decision.alternatives == ("spoke-lysis", "centre")  # 36 min, then 150 min
    assert decision.travel_minutes == 35


def test_haversine_matches_known_distances() -> None:
    # One degree along a meridian on a 6,371 km sphere is 111.19 km; Trang to Hat Yai ~115 km.
    assert haversine_km(0, 100, 1, 100) == pytest.approx(111.19, abs=0.01)
    assert haversine_km(7.5563, 99.6114, 7.0067, 100.4998) == pytest.approx(115, abs=3)


def test_travel_time_falls_back_to_coordinates() -> None:
    travel = TravelTimes(MINUTES, road_factor=1.4, average_speed_kmh=60)
    straight_km = haversine_km(7.58, 99.35, 7.41, 99.51)
    assert 25 < straight_km < 27
    # Not in the matrix: km x road factor at 60 km/h (a km a minute).
    minutes = travel.minutes(NETWORK["spoke-no-ct"], NETWORK["spoke-lysis"])
    assert minutes == pytest.approx(straight_km * 1.4)
    # In the matrix: the matrix wins over coordinates.
    assert travel.minutes(NETWORK["spoke-no-ct"], NETWORK["hub"]) == 35
    nowhere = Hospital("x", "No coordinates", None, None, frozenset())
    assert travel.minutes(NETWORK["hub"], nowhere) is None
    assert travel.minutes(nowhere, nowhere) == 0


def test_matrix_is_symmetric_unless_both_directions_given() -> None:
    travel = TravelTimes.from_json(
        {
            "minutes": [
                {"from": "hub", "to": "centre", "minutes": 99},
                {"from": "spoke-ct", "to": "hub", "minutes": 40},
                {"from": "hub", "to": "spoke-ct", "minutes": 45},
            ],
            "road_factor": 2.0,
            "average_speed_kmh": 30,
        }
    )
    assert travel.minutes(NETWORK["centre"], NETWORK["hub"]) == 99
    assert travel.minutes(NETWORK["hub"], NETWORK["spoke-ct"]) == 45
    assert travel.minutes(NETWORK["spoke-ct"], NETWORK["hub"]) == 40
    km = haversine_km(7.58, 99.35, 7.79, 99.63)
    minutes = travel.minutes(NETWORK["spoke-no-ct"], NETWORK["spoke-ct"])
    assert minutes == pytest.approx(km * 2.0 / 30 * 60)


def test_no_stroke_unit_anywhere_gives_no_destination() -> None:
    network = {"spoke-ct": NETWORK["spoke-ct"]}
    decision = recommend(_request("spoke-ct", 10), network, TRAVEL)
    assert (decision.destination_id, decision.care_model, decision.alternatives) == (None, None, ())
    assert "no stroke unit available" in [str(reason) for reason in decision.reasons]


def test_unknown_origin_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="Unknown origin hospital 'nowhere'"):
        recommend(_request("nowhere", 1), NETWORK, TRAVEL)


def test_naive_times_are_a_clear_error() -> None:
    naive = replace(_request("hub", 1), now=NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match="now must be time-zone aware"):
        recommend(naive, NETWORK, TRAVEL)
