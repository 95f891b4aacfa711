"""Why the routing engine recommends what it does, as codes with parameters.

The engine (routing.py) says each reason as a code and its facts (a hospital id, minutes); the
English sentence below is how machines and logs read it (the FHIR answer, the stored routing
document). People read it in their language: the web app looks the same English sentence up in
its message catalogue (``services/referral/locale``), so a Thai page shows Thai. ``N_`` only
marks a sentence for ``pybabel extract`` (its default keywords include ``N_``); it translates
nothing here, which keeps the domain free of any framework.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum


def N_(message: str) -> str:  # gettext's conventional marker name
    return message


class ReasonCode(StrEnum):
    LKW_UNKNOWN = "lkw-unknown"
    LKW_ELAPSED = "lkw-elapsed"
    LKW_IN_FUTURE = "lkw-in-future"
    LVO_NOT_RECORDED = "lvo-not-recorded"
    EXCLUDED = "excluded"
    OUT_OF_SERVICE = "out-of-service"
    LYSIS_HERE_THEN_THROMBECTOMY = "lysis-here-then-thrombectomy"
    LYSIS_HERE = "lysis-here"
    LYSIS_HERE_BY_TELESTROKE = "lysis-here-by-telestroke"
    ORIGIN_NO_CT = "origin-no-ct"
    ORIGIN_CT_DOWN = "origin-ct-down"
    ORIGIN_NO_THROMBOLYTIC = "origin-no-thrombolytic"
    ORIGIN_CANNOT_LYSE = "origin-cannot-lyse"
    BYPASS_KEEPS_LYSIS = "bypass-keeps-lysis"
    BYPASS_LKW_UNKNOWN = "bypass-lkw-unknown"
    BYPASS_TOO_LONG = "bypass-too-long"
    BYPASS_LOSES_LYSIS = "bypass-loses-lysis"
    NEXT_THROMBECTOMY = "next-thrombectomy"
    NEXT_THROMBECTOMY_UNTIMED = "next-thrombectomy-untimed"
    LVO_NO_CENTRE = "lvo-no-centre"
    CLOSEST_LYSIS = "closest-lysis"
    LYSIS_UNREACHABLE = "lysis-unreachable"
    LYSIS_WINDOW_PASSED = "lysis-window-passed"
    THROMBECTOMY_WITHIN_6H = "thrombectomy-within-6h"
    THROMBECTOMY_EXTENDED = "thrombectomy-extended"
    NO_LYSIS_IN_WINDOW = "no-lysis-in-window"
    NO_CENTRE_IN_24H = "no-centre-in-24h"
    OUTSIDE_WINDOWS_LVO = "outside-windows-lvo"
    OUTSIDE_WINDOWS = "outside-windows"
    NO_STROKE_UNIT = "no-stroke-unit"
    NEAREST_STROKE_UNIT = "nearest-stroke-unit"


C = ReasonCode
# Python %-format with named parameters, the form gettext catalogues use (python-format).
REASON_TEXTS: dict[ReasonCode, str] = {
    C.LKW_UNKNOWN: N_("last known well unknown: thrombolysis window unknown, routed as eligible"),
    C.LKW_ELAPSED: N_("last known well %(hours)s h %(minutes)s min ago"),
    C.LKW_IN_FUTURE: N_("last known well is in the future (check clocks)"),
    C.LVO_NOT_RECORDED: N_("LVO suspicion not recorded: routed as no LVO suspected"),
    C.EXCLUDED: N_("excluded (declined or no answer): %(hospitals)s"),
    C.OUT_OF_SERVICE: N_("out of service now: %(services)s"),
    C.LYSIS_HERE_THEN_THROMBECTOMY: N_(
        "suspected LVO: thrombolysis at %(origin)s, then thrombectomy at %(centre)s "
        "(%(centre_minutes)s min)"
    ),
    C.LYSIS_HERE: N_("%(origin)s can give thrombolysis itself"),
    C.LYSIS_HERE_BY_TELESTROKE: N_(
        "%(origin)s can give thrombolysis itself on a neurologist's advice by telestroke"
    ),
    C.ORIGIN_NO_CT: N_("%(origin)s has no CT available: transfer for imaging and thrombolysis"),
    C.ORIGIN_CT_DOWN: N_(
        "%(origin)s has no CT available (out of service): transfer for imaging and thrombolysis"
    ),
    C.ORIGIN_NO_THROMBOLYTIC: N_(
        "%(origin)s has CT and teleconsult but no thrombolytic on site: no telestroke"
    ),
    C.ORIGIN_CANNOT_LYSE: N_("%(origin)s cannot give thrombolysis"),
    C.BYPASS_KEEPS_LYSIS: N_(
        "suspected LVO: bypass to thrombectomy centre %(centre)s (%(centre_minutes)s min) adds "
        "%(extra)s min (<= %(limit)s) over %(nearest)s (%(nearest_minutes)s min); "
        "thrombolysis kept"
    ),
    C.BYPASS_LKW_UNKNOWN: N_(
        "suspected LVO: bypass to thrombectomy centre %(centre)s (%(centre_minutes)s min) adds "
        "%(extra)s min (<= %(limit)s) over %(nearest)s (%(nearest_minutes)s min); "
        "thrombolysis not checked (LKW unknown)"
    ),
    C.BYPASS_TOO_LONG: N_(
        "bypass to %(centre)s (%(centre_minutes)s min) would add %(extra)s min: lyse first"
    ),
    C.BYPASS_LOSES_LYSIS: N_(
        "bypass to %(centre)s (%(centre_minutes)s min) would add %(extra)s min and lose "
        "thrombolysis: lyse first"
    ),
    C.NEXT_THROMBECTOMY: N_(
        "next step: thrombectomy at %(centre)s (%(centre_minutes)s min) from %(nearest)s"
    ),
    C.NEXT_THROMBECTOMY_UNTIMED: N_("next step: thrombectomy at %(centre)s from %(nearest)s"),
    C.LVO_NO_CENTRE: N_("suspected LVO but no thrombectomy centre reachable: thrombolysis only"),
    C.CLOSEST_LYSIS: N_(
        "closest thrombolysis-capable hospital: %(hospital)s (%(hospital_minutes)s min)"
    ),
    C.LYSIS_UNREACHABLE: N_(
        "thrombolysis not possible: no thrombolysis hospital reachable in time"
    ),
    C.LYSIS_WINDOW_PASSED: N_("thrombolysis not possible: window passed"),
    C.THROMBECTOMY_WITHIN_6H: N_(
        "suspected LVO, within the 6 h thrombectomy window: %(centre)s (%(centre_minutes)s min)"
    ),
    C.THROMBECTOMY_EXTENDED: N_(
        "suspected LVO, arrives 6-24 h after last known well: thrombectomy evaluation "
        "(selected patients): %(centre)s (%(centre_minutes)s min)"
    ),
    C.NO_LYSIS_IN_WINDOW: N_(
        "no thrombolysis-capable hospital reachable within the thrombolysis window"
    ),
    C.NO_CENTRE_IN_24H: N_("no thrombectomy centre reachable within 24 h of last known well"),
    C.OUTSIDE_WINDOWS_LVO: N_("outside treatment windows: LVO suspected but past 24 h"),
    C.OUTSIDE_WINDOWS: N_("outside treatment windows: past 4.5 h and no LVO suspected"),
    C.NO_STROKE_UNIT: N_("no stroke unit available"),
    C.NEAREST_STROKE_UNIT: N_(
        "nearest stroke unit for admission: %(hospital)s (%(hospital_minutes)s min)"
    ),
}

# Parameters that hold one hospital's id, or several joined by ", " (``hospitals``): a page
# shows the hospitals' names instead.
HOSPITAL_PARAMETERS = frozenset({"origin", "centre", "nearest", "hospital"})
HOSPITAL_LIST_PARAMETERS = frozenset({"hospitals"})


@dataclass(frozen=True)
class RoutingReason:
    code: ReasonCode
    params: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, code: ReasonCode, **params: object) -> RoutingReason:
        return cls(code, tuple((name, str(value)) for name, value in params.items()))

    def __str__(self) -> str:  # the English sentence
        return self.worded(lambda text: text)

    def named(self, hospital_name: Callable[[str], str]) -> RoutingReason:
        """The same reason with its hospitals' ids replaced by ``hospital_name``'s names."""
        params = []
        for name, value in self.params:
            if name in HOSPITAL_PARAMETERS:
                value = hospital_name(value)
            elif name in HOSPITAL_LIST_PARAMETERS:
                value = ", ".join(hospital_name(h) for h in value.split(", "))
            params.append((name, value))
        return RoutingReason(self.code, tuple(params))

    def worded(self, translate: Callable[[str], str]) -> str:
        """The sentence through ``translate`` (a message catalogue's gettext)."""
        return translate(REASON_TEXTS[self.code]) % dict(self.params)

    def to_json(self) -> dict[str, object]:
        return {"code": self.code.value, "params": dict(self.params)}

    @classmethod
    def from_json(cls, document: Mapping[str, object]) -> RoutingReason | None:
        """The reason a routing document stored; None for one this version does not know."""
        try:
            code = ReasonCode(str(document.get("code")))
        except ValueError:
            return None
        params = document.get("params")
        fields = params.items() if isinstance(params, Mapping) else ()
        return cls(code, tuple((str(name), str(value)) for name, value in fields))
