"""Where a suspected stroke patient should go, and under which care model. Pure function.

Rules (AHA/ASA 2019 guideline and the AHA prehospital algorithm): thrombolysis at the
closest capable hospital; bypass to a thrombectomy centre (mothership) only when a large-vessel
occlusion is suspected, the extra travel is short and thrombolysis is not lost; LVO patients past
the thrombolysis window go to a thrombectomy centre (6-24 h: evaluation of selected patients).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from services.referral.domain.windows import TreatmentWindow
from shared.vocabulary.capabilities import StrokeCapability

MAX_BYPASS_EXTRA_MINUTES = 30.0
EARTH_RADIUS_KM = 6371.0


class CareModel(StrEnum):
    DRIP_AND_SHIP = "drip-and-ship"
    MOTHERSHIP = "mothership"
    DRIP_AND_STAY = "drip-and-stay"
    TELESTROKE_DRIP_AND_STAY = "telestroke-drip-and-stay"


@dataclass(frozen=True)
class Hospital:
    id: str
    name: str
    latitude: float | None
    longitude: float | None
    capabilities: frozenset[StrokeCapability]
    # Live availability: what is out of service right now (CT down, stroke unit full).
    unavailable: frozenset[StrokeCapability] = frozenset()

    def can(self, *needed: StrokeCapability) -> bool:
        """Has every capability in ``needed`` and none of them is out of service now."""
        return all(c in self.capabilities and c not in self.unavailable for c in needed)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


class TravelTimes:
    """Road minutes between hospitals: a configured matrix, else distance at a road speed."""

    def __init__(
        self,
        matrix: Mapping[tuple[str, str], float] | None = None,
        *,
        road_factor: float = 1.4,
        average_speed_kmh: float = 60.0,
    ) -> None:
        self._matrix: dict[tuple[str, str], float] = {}
        for (a, b), minutes in (matrix or {}).items():
            self._matrix[(a, b)] = float(minutes)
            # Symmetric unless both directions are given (one-way roads, ferries).
            self._matrix.setdefault((b, a), float(minutes))
        self.road_factor = road_factor
        self.average_speed_kmh = average_speed_kmh

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> TravelTimes:
        matrix = {(e["from"], e["to"]): float(e["minutes"]) for e in document.get("minutes", [])}
        return cls(
            matrix,
            road_factor=float(document.get("road_factor", 1.4)),
            average_speed_kmh=float(document.get("average_speed_kmh", 60.0)),
        )

    def minutes(self, origin: Hospital, destination: Hospital) -> float | None:
        if origin.id == destination.id:
            return 0.0
        if (origin.id, destination.id) in self._matrix:
            return self._matrix[(origin.id, destination.id)]
        a, b = origin, destination
        if a.latitude is None or a.longitude is None or b.latitude is None or b.longitude is None:
            return None
        km = haversine_km(a.latitude, a.longitude, b.latitude, b.longitude)
        return km * self.road_factor / self.average_speed_kmh * 60


@dataclass(frozen=True)
class RoutingRequest:
    origin_id: str
    now: datetime  # time-zone aware
    last_known_well: datetime | None  # time-zone aware; None = unknown
    nihss: int | None
    suspected_lvo: bool | None
    # Hospitals that declined or missed their accept-by deadline.
    excluded: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RoutingDecision:
    destination_id: str | None
    care_model: CareModel | None
    travel_minutes: float | None
    reasons: tuple[str, ...]
    # The next candidates by travel time, for automatic re-routing.
    alternatives: tuple[str, ...] = ()


LYSIS_NEEDS = (StrokeCapability.CT_24H, StrokeCapability.THROMBOLYSIS)
THROMBECTOMY_NEEDS = (StrokeCapability.CT_24H, StrokeCapability.THROMBECTOMY)


class _Option(NamedTuple):
    minutes: float
    hospital: Hospital

    def __str__(self) -> str:  # as reasons name a candidate
        return f"{self.hospital.id} ({self.minutes:.0f} min)"


def _duration(delta: timedelta) -> str:
    total = int(delta.total_seconds() // 60)
    return f"{total // 60} h {total % 60:02d} min" if total >= 0 else "in the future (check clocks)"


def _stay_model(hospital: Hospital) -> CareModel:
    # Without its own stroke team a hospital lyses on a hub neurologist's advice (telestroke);
    # the team exists even when the stroke unit is full, hence `capabilities`, not `can`.
    if StrokeCapability.STROKE_UNIT not in hospital.capabilities and hospital.can(
        StrokeCapability.TELECONSULT
    ):
        return CareModel.TELESTROKE_DRIP_AND_STAY
    return CareModel.DRIP_AND_STAY


def _origin_limits(origin: Hospital) -> str:
    if not origin.can(StrokeCapability.CT_24H):
        down = " (out of service)" if StrokeCapability.CT_24H in origin.capabilities else ""
        return f"{origin.id} has no CT available{down}: transfer for imaging and thrombolysis"
    if origin.can(StrokeCapability.TELECONSULT):
        return f"{origin.id} has CT and teleconsult but no thrombolytic on site: no telestroke"
    return f"{origin.id} cannot give thrombolysis"


def recommend(
    request: RoutingRequest, hospitals: Mapping[str, Hospital], travel: TravelTimes
) -> RoutingDecision:
    origin = hospitals.get(request.origin_id)
    if origin is None:
        raise ValueError(f"Unknown origin hospital {request.origin_id!r}")
    now, lkw = request.now, request.last_known_well
    for label, moment in (("now", now), ("last_known_well", lkw)):
        if moment is not None and moment.utcoffset() is None:
            raise ValueError(f"RoutingRequest.{label} must be time-zone aware: {moment}")
    lvo = request.suspected_lvo is True
    reasons: list[str] = []
    if lkw is None:
        reasons.append("last known well unknown: thrombolysis window unknown, routed as eligible")
    else:
        reasons.append(f"last known well {_duration(now - lkw)} ago")
    if request.suspected_lvo is None:
        reasons.append("LVO suspicion not recorded: routed as no LVO suspected")
    if request.excluded:
        reasons.append(f"excluded (declined or no answer): {', '.join(sorted(request.excluded))}")
    down = sorted(
        f"{h.id} ({', '.join(sorted(h.unavailable))})" for h in hospitals.values() if h.unavailable
    )
    if down:
        reasons.append(f"out of service now: {'; '.join(down)}")

    def ranked(needed: tuple[StrokeCapability, ...], window: timedelta | None) -> list[_Option]:
        # Capable, not excluded, with a known travel time, reached before LKW + window.
        found = []
        for hospital in hospitals.values():
            minutes = travel.minutes(origin, hospital)
            if hospital.id in request.excluded or not hospital.can(*needed) or minutes is None:
                continue
            if window is None or lkw is None or now + timedelta(minutes=minutes) <= lkw + window:
                found.append(_Option(minutes, hospital))
        return sorted(found, key=lambda o: (o.minutes, o.hospital.id))

    lysis = ranked(LYSIS_NEEDS, TreatmentWindow.THROMBOLYSIS.length)
    evt = ranked(THROMBECTOMY_NEEDS, TreatmentWindow.THROMBECTOMY_EXTENDED.length) if lvo else []
    lysis_open = lkw is None or now <= lkw + TreatmentWindow.THROMBOLYSIS.length

    def decide(
        model: CareModel | None, chosen: _Option, why: str, *pools: list[_Option]
    ) -> RoutingDecision:
        reasons.append(why)
        others = {o.hospital.id: o for pool in (pools or (lysis, evt)) for o in pool}
        ordered = sorted(others.values(), key=lambda o: (o.minutes, o.hospital.id))
        skip = {chosen.hospital.id, origin.id}
        alternatives = tuple(o.hospital.id for o in ordered if o.hospital.id not in skip)
        minutes = round(chosen.minutes, 1)
        return RoutingDecision(chosen.hospital.id, model, minutes, tuple(reasons), alternatives)

    # 1. The origin can thrombolyse: the closest capable facility is where the patient is.
    on_site = next((o for o in lysis if o.hospital.id == origin.id), None)
    if on_site is not None:
        if evt and evt[0].hospital.id != origin.id:
            why = f"suspected LVO: thrombolysis at {origin.id}, then thrombectomy at {evt[0]}"
            return decide(CareModel.DRIP_AND_SHIP, evt[0], why)
        model = _stay_model(origin)
        tele = (
            "" if model == CareModel.DRIP_AND_STAY else " on a neurologist's advice by telestroke"
        )
        return decide(model, on_site, f"{origin.id} can give thrombolysis itself{tele}")
    if lysis_open:
        reasons.append(_origin_limits(origin))

    # 2. Thrombolysis reachable elsewhere: the closest capable hospital, unless a short bypass.
    if lysis:
        nearest = lysis[0]
        if evt:
            # The nearest may itself do thrombectomy: then it is the bypass target, 0 min extra.
            centre = next((o for o in evt if o.hospital.id == nearest.hospital.id), evt[0])
            extra = centre.minutes - nearest.minutes
            keeps_lysis = centre in lysis  # can lyse, and arrival is within the window
            if keeps_lysis and extra <= MAX_BYPASS_EXTRA_MINUTES:
                kept = "not checked (LKW unknown)" if lkw is None else "kept"
                why = (
                    f"suspected LVO: bypass to thrombectomy centre {centre} adds {extra:.0f} min"
                    f" (<= {MAX_BYPASS_EXTRA_MINUTES:.0f}) over {nearest}; thrombolysis {kept}"
                )
                return decide(CareModel.MOTHERSHIP, centre, why)
            lost = "" if keeps_lysis else " and lose thrombolysis"
            reasons.append(f"bypass to {centre} would add {extra:.0f} min{lost}: lyse first")
            leg = travel.minutes(nearest.hospital, centre.hospital)
            onward = centre.hospital.id if leg is None else _Option(leg, centre.hospital)
            reasons.append(f"next step: thrombectomy at {onward} from {nearest.hospital.id}")
        elif lvo:
            reasons.append("suspected LVO but no thrombectomy centre reachable: thrombolysis only")
        model = CareModel.DRIP_AND_SHIP if evt else _stay_model(nearest.hospital)
        return decide(model, nearest, f"closest thrombolysis-capable hospital: {nearest}")

    # 3. Thrombolysis lost or impossible, LVO suspected: thrombectomy while still possible.
    if evt:
        centre = evt[0]
        lost = "no thrombolysis hospital reachable in time" if lysis_open else "window passed"
        reasons.append(f"thrombolysis not possible: {lost}")
        arrival = now + timedelta(minutes=centre.minutes)
        phase = (
            "within the 6 h thrombectomy window"
            if lkw is None or arrival <= lkw + TreatmentWindow.THROMBECTOMY.length
            else "arrives 6-24 h after last known well: thrombectomy evaluation (selected patients)"
        )
        return decide(CareModel.MOTHERSHIP, centre, f"suspected LVO, {phase}: {centre}")

    # 4. Nothing time-critical left: admission to the nearest stroke unit.
    if lysis_open:
        reasons.append("no thrombolysis-capable hospital reachable within the thrombolysis window")
    elif lvo and lkw is not None and now <= lkw + TreatmentWindow.THROMBECTOMY_EXTENDED.length:
        reasons.append("no thrombectomy centre reachable within 24 h of last known well")
    else:
        late = "LVO suspected but past 24 h" if lvo else "past 4.5 h and no LVO suspected"
        reasons.append(f"outside treatment windows: {late}")
    units = ranked((StrokeCapability.STROKE_UNIT,), None)
    if not units:
        return RoutingDecision(None, None, None, (*reasons, "no stroke unit available"), ())
    return decide(None, units[0], f"nearest stroke unit for admission: {units[0]}", units)
