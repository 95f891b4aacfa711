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

from services.referral.domain.routing_reasons import ReasonCode as R
from services.referral.domain.routing_reasons import RoutingReason
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
    reasons: tuple[RoutingReason, ...]
    # The next candidates by travel time, for automatic re-routing.
    alternatives: tuple[str, ...] = ()


LYSIS_NEEDS = (StrokeCapability.CT_24H, StrokeCapability.THROMBOLYSIS)
THROMBECTOMY_NEEDS = (StrokeCapability.CT_24H, StrokeCapability.THROMBECTOMY)


class _Option(NamedTuple):
    minutes: float
    hospital: Hospital

    @property
    def shown_minutes(self) -> str:  # as reasons give a candidate's travel time
        return f"{self.minutes:.0f}"


def _since(delta: timedelta) -> RoutingReason:
    total = int(delta.total_seconds() // 60)
    if total < 0:
        return RoutingReason.of(R.LKW_IN_FUTURE)
    return RoutingReason.of(R.LKW_ELAPSED, hours=total // 60, minutes=f"{total % 60:02d}")


def _stay_model(hospital: Hospital) -> CareModel:
    # Without its own stroke team a hospital lyses on a hub neurologist's advice (telestroke);
    # the team exists even when the stroke unit is full, hence `capabilities`, not `can`.
    if StrokeCapability.STROKE_UNIT not in hospital.capabilities and hospital.can(
        StrokeCapability.TELECONSULT
    ):
        return CareModel.TELESTROKE_DRIP_AND_STAY
    return CareModel.DRIP_AND_STAY


def _origin_limits(origin: Hospital) -> RoutingReason:
    if not origin.can(StrokeCapability.CT_24H):
        down = StrokeCapability.CT_24H in origin.capabilities
        return RoutingReason.of(R.ORIGIN_CT_DOWN if down else R.ORIGIN_NO_CT, origin=origin.id)
    if origin.can(StrokeCapability.TELECONSULT):
        return RoutingReason.of(R.ORIGIN_NO_THROMBOLYTIC, origin=origin.id)
    return RoutingReason.of(R.ORIGIN_CANNOT_LYSE, origin=origin.id)


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
    reasons: list[RoutingReason] = []
    reasons.append(RoutingReason.of(R.LKW_UNKNOWN) if lkw is None else _since(now - lkw))
    if request.suspected_lvo is None:
        reasons.append(RoutingReason.of(R.LVO_NOT_RECORDED))
    if request.excluded:
        excluded = ", ".join(sorted(request.excluded))
        reasons.append(RoutingReason.of(R.EXCLUDED, hospitals=excluded))
    down = sorted(
        f"{h.id} ({', '.join(sorted(h.unavailable))})" for h in hospitals.values() if h.unavailable
    )
    if down:
        reasons.append(RoutingReason.of(R.OUT_OF_SERVICE, services="; ".join(down)))

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
        model: CareModel | None, chosen: _Option, why: RoutingReason, *pools: list[_Option]
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
            why = RoutingReason.of(
                R.LYSIS_HERE_THEN_THROMBECTOMY,
                origin=origin.id,
                centre=evt[0].hospital.id,
                centre_minutes=evt[0].shown_minutes,
            )
            return decide(CareModel.DRIP_AND_SHIP, evt[0], why)
        model = _stay_model(origin)
        here = R.LYSIS_HERE if model == CareModel.DRIP_AND_STAY else R.LYSIS_HERE_BY_TELESTROKE
        return decide(model, on_site, RoutingReason.of(here, origin=origin.id))
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
            bypass = {
                "centre": centre.hospital.id,
                "centre_minutes": centre.shown_minutes,
                "extra": f"{extra:.0f}",
            }
            if keeps_lysis and extra <= MAX_BYPASS_EXTRA_MINUTES:
                why = RoutingReason.of(
                    R.BYPASS_LKW_UNKNOWN if lkw is None else R.BYPASS_KEEPS_LYSIS,
                    **bypass,
                    limit=f"{MAX_BYPASS_EXTRA_MINUTES:.0f}",
                    nearest=nearest.hospital.id,
                    nearest_minutes=nearest.shown_minutes,
                )
                return decide(CareModel.MOTHERSHIP, centre, why)
            too_long = R.BYPASS_TOO_LONG if keeps_lysis else R.BYPASS_LOSES_LYSIS
            reasons.append(RoutingReason.of(too_long, **bypass))
            leg = travel.minutes(nearest.hospital, centre.hospital)
            reasons.append(
                RoutingReason.of(
                    R.NEXT_THROMBECTOMY_UNTIMED,
                    centre=centre.hospital.id,
                    nearest=nearest.hospital.id,
                )
                if leg is None
                else RoutingReason.of(
                    R.NEXT_THROMBECTOMY,
                    centre=centre.hospital.id,
                    centre_minutes=_Option(leg, centre.hospital).shown_minutes,
                    nearest=nearest.hospital.id,
                )
            )
        elif lvo:
            reasons.append(RoutingReason.of(R.LVO_NO_CENTRE))
        model = CareModel.DRIP_AND_SHIP if evt else _stay_model(nearest.hospital)
        why = RoutingReason.of(
            R.CLOSEST_LYSIS, hospital=nearest.hospital.id, hospital_minutes=nearest.shown_minutes
        )
        return decide(model, nearest, why)

    # 3. Thrombolysis lost or impossible, LVO suspected: thrombectomy while still possible.
    if evt:
        centre = evt[0]
        lost = R.LYSIS_UNREACHABLE if lysis_open else R.LYSIS_WINDOW_PASSED
        reasons.append(RoutingReason.of(lost))
        arrival = now + timedelta(minutes=centre.minutes)
        phase = (
            R.THROMBECTOMY_WITHIN_6H
            if lkw is None or arrival <= lkw + TreatmentWindow.THROMBECTOMY.length
            else R.THROMBECTOMY_EXTENDED
        )
        why = RoutingReason.of(
            phase, centre=centre.hospital.id, centre_minutes=centre.shown_minutes
        )
        return decide(CareModel.MOTHERSHIP, centre, why)

    # 4. Nothing time-critical left: admission to the nearest stroke unit.
    if lysis_open:
        reasons.append(RoutingReason.of(R.NO_LYSIS_IN_WINDOW))
    elif lvo and lkw is not None and now <= lkw + TreatmentWindow.THROMBECTOMY_EXTENDED.length:
        reasons.append(RoutingReason.of(R.NO_CENTRE_IN_24H))
    else:
        reasons.append(RoutingReason.of(R.OUTSIDE_WINDOWS_LVO if lvo else R.OUTSIDE_WINDOWS))
    units = ranked((StrokeCapability.STROKE_UNIT,), None)
    if not units:
        none_left = (*reasons, RoutingReason.of(R.NO_STROKE_UNIT))
        return RoutingDecision(None, None, None, none_left, ())
    unit = units[0]
    why = RoutingReason.of(
        R.NEAREST_STROKE_UNIT, hospital=unit.hospital.id, hospital_minutes=unit.shown_minutes
    )
    return decide(None, unit, why, units)
