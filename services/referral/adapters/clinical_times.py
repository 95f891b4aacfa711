"""Clinical times read from inbound FHIR resources: when, how sure, and at which hospital.

Every clinical time may carry the project's two extensions, on the resource or on the time
element itself (FHIR primitive extension, ``_effectiveDateTime``):
``.../StructureDefinition/time-uncertain`` (valueBoolean) and ``.../time-source`` (valueCode
``recorded | device | estimated``; estimated implies uncertain). The hospital where a time
happened comes from the resource's own Organization references (Encounter.serviceProvider,
performer actors) or its Location's managing organization, else the sender's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.imagingstudy import ImagingStudy
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.medicationadministration import MedicationAdministration
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.procedure import Procedure

from services.referral.domain.clock import TimeSource
from services.referral.domain.commands import ClinicalTime, ReportedTime
from services.referral.domain.errors import InvalidReferral
from shared.fhir import codes
from shared.fhir.envelope import FhirMessage
from shared.fhir.references import organization_id

TIME_UNCERTAIN_URL = f"{codes.PROJECT_CANONICAL}/StructureDefinition/time-uncertain"
TIME_SOURCE_URL = f"{codes.PROJECT_CANONICAL}/StructureDefinition/time-source"
TIME_SOURCES = tuple(source.value for source in TimeSource)
K = ClinicalTime


def as_datetime(value: object, *, element: str | None = None) -> datetime | None:
    """A FHIR dateTime as an aware datetime; refuses a date alone or a time without zone."""
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            raise InvalidReferral(
                f"{value!s:.40} is not a full date and time", expression=element
            ) from None
    if parsed.tzinfo is None:
        raise InvalidReferral("Clinical times need a time zone (e.g. +07:00)", expression=element)
    return parsed


def time_quality(resource: Any, element: str) -> tuple[str, bool]:
    """(source, uncertain) of ``resource.<element>``: its own extensions win over the
    resource's. An unknown source code is refused rather than taken as recorded."""
    source, uncertain = TimeSource.RECORDED.value, False
    primitive = getattr(resource, f"{element}__ext", None)
    extensions = [
        *(getattr(resource, "extension", None) or []),
        *((primitive.extension or []) if primitive is not None else []),
    ]
    for extension in extensions:  # later (element-level) extensions override earlier ones
        if extension.url == TIME_UNCERTAIN_URL and extension.valueBoolean is not None:
            uncertain = bool(extension.valueBoolean)
        elif extension.url == TIME_SOURCE_URL and extension.valueCode:
            source = str(extension.valueCode)
            if source not in TIME_SOURCES:
                raise InvalidReferral(
                    f"time-source must be one of {', '.join(TIME_SOURCES)}, got {source!r}",
                    expression=f"{resource.get_resource_type()}.{element}",
                )
    return source, uncertain or source == TimeSource.ESTIMATED


def quality_extensions(*, source: str, uncertain: bool) -> list[dict[str, object]]:
    """The extensions that say how sure a time is (none for a recorded, certain time)."""
    found: list[dict[str, object]] = []
    if uncertain:
        found.append({"url": TIME_UNCERTAIN_URL, "valueBoolean": True})
    if source != TimeSource.RECORDED:
        found.append({"url": TIME_SOURCE_URL, "valueCode": source})
    return found


def _reported(
    kind: ClinicalTime, resource: Any, element: str, value: object, hospital: str | None
) -> ReportedTime | None:
    occurred = as_datetime(value, element=f"{resource.get_resource_type()}.{element}")
    if occurred is None:
        return None
    source, uncertain = time_quality(resource, element)
    return ReportedTime(
        kind=kind, occurred_at=occurred, source=source, uncertain=uncertain, hospital=hospital
    )


def last_known_well(message: FhirMessage) -> ReportedTime | None:
    """The LKW Observation's effective time, else the stroke Condition's onsetDateTime, with
    how sure it is (a wake-up stroke's LKW is estimated)."""
    for observation in message.resources(Observation):
        coding = {
            (c.system, c.code)
            for c in (observation.code.coding if observation.code else None) or []
        }
        if (codes.STROKE_OBSERVATION_SYSTEM, codes.LAST_KNOWN_WELL) not in coding:
            continue
        if observation.effectivePeriod is not None and observation.effectiveDateTime is None:
            found = _period_edge(K.LAST_KNOWN_WELL, observation, "effectivePeriod", "start", None)
            if found is not None and observation.effectivePeriod.end is not None:
                # Well until somewhere in a span (asleep from 22:00 to 06:00): not a known time.
                return replace(found, uncertain=True)
            return found
        return _reported(
            K.LAST_KNOWN_WELL, observation, "effectiveDateTime", observation.effectiveDateTime, None
        )
    for condition in message.resources(Condition):
        if condition.onsetDateTime is not None:
            return _reported(
                K.LAST_KNOWN_WELL, condition, "onsetDateTime", condition.onsetDateTime, None
            )
    return None


def _organization(references: Iterable[str | None], locations: dict[str, Location]) -> str | None:
    """The first Organization named directly, or through a Location in the Bundle."""
    for reference in references:
        if not reference:
            continue
        named = organization_id(reference)
        if named is not None:
            return named
        location = locations.get(reference)
        if location is not None and location.managingOrganization is not None:
            managing = organization_id(location.managingOrganization.reference)
            if managing is not None:
                return managing
    return None


def _actors(performers: Iterable[Any] | None) -> list[str | None]:
    found: list[str | None] = []
    for performer in performers or []:
        for element in ("actor", "onBehalfOf"):
            reference = getattr(performer, element, None)
            found.append(reference.reference if reference is not None else None)
    return found


def reported_times(message: FhirMessage) -> tuple[ReportedTime, ...]:
    """Clinical times carried by a message: Encounter period (door-in/out), ImagingStudy
    (CT), MedicationAdministration (needle), Procedure (groin puncture); each with its
    source, uncertainty and, where the resource says, the hospital it happened at."""
    locations = {f"Location/{loc.id}": loc for loc in message.resources(Location) if loc.id}
    found: list[ReportedTime | None] = []
    for encounter in message.resources(Encounter):
        if encounter.period is None:
            continue
        hospital = _organization(
            [
                encounter.serviceProvider.reference if encounter.serviceProvider else None,
                *(e.location.reference for e in encounter.location or []),
            ],
            locations,
        )
        found.append(_period_edge(K.DOOR_IN, encounter, "period", "start", hospital))
        found.append(_period_edge(K.DOOR_OUT, encounter, "period", "end", hospital))
    for study in message.resources(ImagingStudy):
        hospital = _organization(
            [
                study.location.reference if study.location else None,
                *(a for series in study.series or [] for a in _actors(series.performer)),
            ],
            locations,
        )
        found.append(_reported(K.CT_STARTED, study, "started", study.started, hospital))
    for administration in message.resources(MedicationAdministration):
        hospital = _organization(_actors(administration.performer), locations)
        found.append(_started(K.NEEDLE, administration, "effective", hospital))
    for procedure in message.resources(Procedure):
        hospital = _organization(
            [
                procedure.location.reference if procedure.location else None,
                *_actors(procedure.performer),
            ],
            locations,
        )
        found.append(_started(K.GROIN_PUNCTURE, procedure, "performed", hospital))
    return tuple(time for time in found if time is not None)


def _started(
    kind: ClinicalTime, resource: Any, choice: str, hospital: str | None
) -> ReportedTime | None:
    """When a ``<choice>[x]`` element (dateTime or Period) started."""
    moment = getattr(resource, f"{choice}DateTime")
    if moment is not None:
        return _reported(kind, resource, f"{choice}DateTime", moment, hospital)
    if getattr(resource, f"{choice}Period") is not None:
        return _period_edge(kind, resource, f"{choice}Period", "start", hospital)
    return None


def _period_edge(
    kind: ClinicalTime, resource: Any, element: str, edge: str, hospital: str | None
) -> ReportedTime | None:
    """One end of a Period element; how sure it is from the resource, the period or the end."""
    period = getattr(resource, element)
    found = _reported(kind, period, edge, getattr(period, edge), hospital)
    if found is None:
        return None
    source, uncertain = time_quality(resource, element)
    return replace(
        found,
        source=found.source if found.source != TimeSource.RECORDED else source,
        uncertain=found.uncertain or uncertain,
    )
