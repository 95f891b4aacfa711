"""Where a suspected stroke patient should go, and under which care model. Pure function.

Rules (DOMAIN.md section 2, AHA/ASA 2019 and the AHA prehospital algorithm): thrombolysis at the
closest capable hospital; bypass to a thrombectomy centre (mothership) only when a large-vessel
occlusion is suspected, the extra travel is short and thrombolysis is not lost; late LVO patients
(6-24 h) go to a thrombectomy centre for evaluation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

THROMBOLYSIS_WINDOW = timedelta(hours=4.5)
THROMBECTOMY_WINDOW = timedelta(hours=6)
THROMBECTOMY_EXTENDED_WINDOW = timedelta(hours=24)
MAX_BYPASS_EXTRA_MINUTES = 30.0


class CareModel(StrEnum):
    DRIP_AND_SHIP = "drip-and-ship"
    MOTHERSHIP = "mothership"
    DRIP_AND_STAY = "drip-and-stay"
    TELESTROKE_DRIP_AND_STAY = "telestroke-drip-and-stay"


class Capability(StrEnum):
    CT_24H = "ct-24h"
    THROMBOLYSIS = "thrombolysis"
    THROMBECTOMY = "thrombectomy"
    STROKE_UNIT = "stroke-unit"
    TELECONSULT = "teleconsult"


@dataclass(frozen=True)
class Hospital:
    id: str
    name: str
    latitude: float | None
    longitude: float | None
    capabilities: frozenset[Capability]
    # Live availability: what is out of service right now (CT down, stroke unit full).
    unavailable: frozenset[Capability] = frozenset()

    def can(self, *needed: Capability) -> bool:
        return all(c in self.capabilities and c not in self.unavailable for c in needed)


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
            self._matrix[(a, b)] = minutes
            self._matrix.setdefault((b, a), minutes)
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


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    radius_km = 6371.0
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * radius_km * math.asin(math.sqrt(a))


@dataclass(frozen=True)
class RoutingRequest:
    origin_id: str
    now: datetime
    last_known_well: datetime | None
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
    # The next candidates in order, for automatic re-routing.
    alternatives: tuple[str, ...] = field(default=())


def recommend(
    request: RoutingRequest, hospitals: Mapping[str, Hospital], travel: TravelTimes
) -> RoutingDecision:
    origin = hospitals.get(request.origin_id)
    if origin is None:
        raise ValueError(f"Unknown origin hospital {request.origin_id!r}")
    reasons: list[str] = []
    elapsed = request.now - request.last_known_well if request.last_known_well else None
    if elapsed is None:
        reasons.append("last known well unknown: treated as possibly within the windows")
    lvo = bool(request.suspected_lvo)

    def ranked(*needed: Capability) -> list[tuple[float, Hospital]]:
        found = []
        for hospital in hospitals.values():
            if hospital.id in request.excluded or not hospital.can(*needed):
                continue
            minutes = travel.minutes(origin, hospital)
            if minutes is not None:
                found.append((minutes, hospital))
        return sorted(found, key=lambda pair: (pair[0], pair[1].id))

    def decide(
        model: CareModel | None,
        chosen: tuple[float, Hospital],
        pool: list[tuple[float, Hospital]],
        why: str,
    ) -> RoutingDecision:
        minutes, hospital = chosen
        reasons.append(why)
        alternatives = tuple(h.id for _, h in pool if h.id != hospital.id)
        return RoutingDecision(hospital.id, model, round(minutes, 1), tuple(reasons), alternatives)

    thrombolysis = ranked(Capability.CT_24H, Capability.THROMBOLYSIS)
    thrombectomy = ranked(Capability.CT_24H, Capability.THROMBECTOMY)
    lysis_open = elapsed is None or elapsed < THROMBOLYSIS_WINDOW
    late_lvo = (
        lvo
        and elapsed is not None
        and THROMBOLYSIS_WINDOW <= elapsed < THROMBECTOMY_EXTENDED_WINDOW
    )

    if elapsed is not None and (
        elapsed >= THROMBECTOMY_EXTENDED_WINDOW or (not lvo and elapsed >= THROMBOLYSIS_WINDOW)
    ):
        reasons.append("outside treatment windows: admit to the nearest stroke unit")
        units = ranked(Capability.STROKE_UNIT)
        if not units:
            return RoutingDecision(None, None, None, (*reasons, "no stroke unit available"))
        return decide(
            None, units[0], units, f"nearest stroke unit: {units[0][1].id} ({units[0][0]:.0f} min)"
        )

    if late_lvo:
        reasons.append("suspected LVO past the thrombolysis window: thrombectomy evaluation")
        if thrombectomy:
            return decide(
                CareModel.MOTHERSHIP,
                thrombectomy[0],
                thrombectomy,
                f"closest thrombectomy centre: {thrombectomy[0][1].id} "
                f"({thrombectomy[0][0]:.0f} min)",
            )

    if (
        lysis_open
        and origin.id not in request.excluded
        and origin.can(Capability.CT_24H, Capability.THROMBOLYSIS)
    ):
        if lvo and thrombectomy and thrombectomy[0][1].id != origin.id:
            return decide(
                CareModel.DRIP_AND_SHIP,
                thrombectomy[0],
                thrombectomy,
                f"thrombolysis at {origin.id}, then thrombectomy at {thrombectomy[0][1].id} "
                f"({thrombectomy[0][0]:.0f} min)",
            )
        return decide(
            CareModel.DRIP_AND_STAY,
            (0.0, origin),
            thrombolysis,
            f"{origin.id} can give thrombolysis itself",
        )

    if not thrombolysis:
        if thrombectomy:
            return decide(
                CareModel.MOTHERSHIP,
                thrombectomy[0],
                thrombectomy,
                "no thrombolysis hospital available; closest thrombectomy centre: "
                f"{thrombectomy[0][1].id}",
            )
        return RoutingDecision(
            None, None, None, (*reasons, "no hospital can treat the patient now")
        )

    nearest_minutes, nearest = thrombolysis[0]
    if lvo and thrombectomy:
        bypass_minutes, centre = thrombectomy[0]
        extra = bypass_minutes - nearest_minutes
        arrives_in_window = (
            request.last_known_well is None
            or request.now + timedelta(minutes=bypass_minutes)
            <= request.last_known_well + THROMBOLYSIS_WINDOW
        )
        if centre.id == nearest.id or (extra <= MAX_BYPASS_EXTRA_MINUTES and arrives_in_window):
            model = CareModel.MOTHERSHIP if centre.id != origin.id else CareModel.DRIP_AND_STAY
            return decide(
                model,
                thrombectomy[0],
                thrombectomy,
                f"suspected LVO: thrombectomy centre {centre.id} is {extra:.0f} min further than "
                f"{nearest.id}, within {MAX_BYPASS_EXTRA_MINUTES:.0f} min and the thrombolysis "
                "window",
            )
        reasons.append(
            f"bypass to {centre.id} would add {extra:.0f} min or lose the thrombolysis window: "
            "thrombolysis first"
        )
    # Thrombolysis at the destination; it ships the patient on only for a suspected LVO.
    onward = lvo and not nearest.can(Capability.THROMBECTOMY)
    return decide(
        CareModel.DRIP_AND_SHIP if onward else CareModel.DRIP_AND_STAY,
        thrombolysis[0],
        thrombolysis,
        f"closest thrombolysis-capable hospital: {nearest.id} ({nearest_minutes:.0f} min)",
    )
