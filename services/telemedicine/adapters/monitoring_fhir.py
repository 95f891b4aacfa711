"""Home-isolation monitoring <-> FHIR R4B: vital-signs Observations in (LOINC codes, UCUM
units, validated by the models on the way in), the episode out as EpisodeOfCare, CarePlan (the
check-ins twice a day), CareTeam and Flag, and the flag's change as a message."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.telemedicine.domain.episode import Episode
from services.telemedicine.domain.monitoring import (
    CheckIn,
    Level,
    LevelChange,
    Programme,
    Reading,
    Symptom,
    Vital,
)
from shared.errors import InvalidInput
from shared.fhir.codes import (
    LOINC,
    PROJECT_CANONICAL,
    SNOMED,
    UCUM,
    EventCode,
    organization_reference,
)
from shared.fhir.envelope import FhirMessage, build_message
from shared.fhir.ids import derived_id
from shared.fhir.models import Observation, get_fhir_model_class
from shared.fhir.monitoring import (
    LINE_USER_SYSTEM,
    LOINC_SYMPTOM,
    SYMPTOM_SNOMED,
    care_plan_reference,
)

LEVEL_SYSTEM = f"{PROJECT_CANONICAL}/CodeSystem/monitoring-level"
VITAL_SIGNS_CATEGORY = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "vital-signs",
        }
    ]
}
# LOINC code -> (vital, the UCUM unit its value must be in). SpO2 has two codes in use: pulse
# oximetry (59408-5, the vital-signs profile's) and arterial saturation (2708-6).
VITAL_CODES: dict[str, tuple[Vital, str]] = {
    "59408-5": (Vital.SPO2, "%"),
    "2708-6": (Vital.SPO2, "%"),
    "8310-5": (Vital.TEMPERATURE, "Cel"),
    "9279-1": (Vital.RESPIRATORY_RATE, "/min"),
    "8867-4": (Vital.HEART_RATE, "/min"),
}
LOINC_OF_VITAL = {
    Vital.SPO2: "59408-5",
    Vital.TEMPERATURE: "8310-5",
    Vital.RESPIRATORY_RATE: "9279-1",
    Vital.HEART_RATE: "8867-4",
}
UNIT_OF_VITAL = {vital: unit for vital, unit in VITAL_CODES.values()}
# LOINC "Symptom" with a SNOMED CT finding as its value (shared with the notifier's LINE path).
SYMPTOM_CODES: dict[str, Symptom] = {code: Symptom(name) for name, code in SYMPTOM_SNOMED.items()}
SNOMED_OF_SYMPTOM = {symptom: code for code, symptom in SYMPTOM_CODES.items()}
_COUNTED_STATUSES = frozenset({"final", "amended", "corrected", "preliminary"})


@dataclass(frozen=True)
class ObservedCheckIn:
    """A check-in as a message brings it: whose (the CarePlan it is based on, else the
    patient), and what."""

    care_plan: str | None
    patient: str | None
    check_in: CheckIn
    # The LINE user who answered (the performer), when the check-in came through LINE.
    line_user: str | None = None


def care_plan_id(episode_id: str) -> str:
    return care_plan_reference(episode_id).removeprefix("CarePlan/")


def episode_of_care_plan(care_plan: str) -> str:
    return care_plan.removeprefix("CarePlan/").removeprefix("cp-")


def check_in_from_message(message: FhirMessage) -> ObservedCheckIn:
    """The Observations a monitoring-check-in message carries, as one check-in; refuses a code,
    unit or value it cannot read (InvalidInput: the sender is told which)."""
    observations = [
        resource
        for reference in message.focus
        if (resource := message.resolve(reference, Observation)) is not None
    ]
    if not observations:
        raise InvalidInput(
            "monitoring-check-in needs Observations as its focus", expression="MessageHeader.focus"
        )
    readings: list[Reading] = []
    symptoms: set[Symptom] = set()
    subjects: set[str] = set()
    plans: set[str] = set()
    line_users: set[str] = set()
    for index, observation in enumerate(observations):
        where = f"Observation[{index}]"
        if observation.status not in _COUNTED_STATUSES:
            raise InvalidInput(f"{where}.status {observation.status!r} does not count")
        if observation.subject is not None and observation.subject.reference:
            subjects.add(str(observation.subject.reference))
        plans.update(
            str(b.reference)
            for b in observation.basedOn or []
            if b.reference and str(b.reference).startswith("CarePlan/")
        )
        line_users.update(
            str(p.identifier.value)
            for p in observation.performer or []
            if p.identifier is not None
            and p.identifier.system == LINE_USER_SYSTEM
            and p.identifier.value
        )
        code = _loinc(observation.code)
        if code == LOINC_SYMPTOM:
            symptoms.add(_symptom(observation, where))
        elif code in VITAL_CODES:
            readings.append(_reading(observation, *VITAL_CODES[code], where=where))
        else:
            raise InvalidInput(
                f"{where}.code is not a monitored vital sign (LOINC {', '.join(VITAL_CODES)}, "
                f"symptom {LOINC_SYMPTOM})",
                expression=f"{where}.code",
            )
    if len(subjects) > 1 or len(plans) > 1 or len(line_users) > 1:
        raise InvalidInput("A check-in's Observations must be about one patient and CarePlan")
    return ObservedCheckIn(
        care_plan=next(iter(plans), None),
        patient=next(iter(subjects), None),
        check_in=CheckIn(readings=tuple(readings), symptoms=frozenset(symptoms)),
        line_user=next(iter(line_users), None),
    )


def _loinc(concept: Any) -> str | None:
    for coding in (concept.coding if concept is not None else None) or []:
        if coding.system == LOINC and coding.code:
            return str(coding.code)
    return None


def _reading(observation: Any, vital: Vital, unit: str, *, where: str) -> Reading:
    quantity = observation.valueQuantity
    if quantity is None or quantity.value is None:
        raise InvalidInput(f"{where} needs a valueQuantity", expression=f"{where}.valueQuantity")
    if quantity.system != UCUM or quantity.code != unit:
        raise InvalidInput(
            f"{where}.valueQuantity must be in UCUM {unit!r}", expression=f"{where}.valueQuantity"
        )
    return Reading(vital, float(quantity.value))


def _symptom(observation: Any, where: str) -> Symptom:
    concept = observation.valueCodeableConcept
    for coding in (concept.coding if concept is not None else None) or []:
        if coding.system == SNOMED and coding.code in SYMPTOM_CODES:
            return SYMPTOM_CODES[str(coding.code)]
    raise InvalidInput(
        f"{where} needs a valueCodeableConcept with a SNOMED CT symptom "
        f"({', '.join(SYMPTOM_CODES)})",
        expression=f"{where}.valueCodeableConcept",
    )


def observations(
    check_in: CheckIn, *, episode: Episode, at: datetime, performer: str | None = None
) -> list[Any]:
    """A check-in as vital-signs Observations (what the LINE webhook and the form send on)."""
    model = Observation
    common: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "subject": {"reference": episode.patient},
        "basedOn": [{"reference": f"CarePlan/{care_plan_id(episode.id)}"}],
        "effectiveDateTime": at.isoformat(),
        **({"performer": [{"reference": performer}]} if performer else {}),
    }
    made = [
        model.model_validate(
            {
                **common,
                "category": [VITAL_SIGNS_CATEGORY],
                "code": {"coding": [{"system": LOINC, "code": LOINC_OF_VITAL[r.vital]}]},
                "valueQuantity": {
                    "value": r.value,
                    "unit": UNIT_OF_VITAL[r.vital],
                    "system": UCUM,
                    "code": UNIT_OF_VITAL[r.vital],
                },
            }
        )
        for r in check_in.readings
    ]
    made += [
        model.model_validate(
            {
                **common,
                "category": [{"coding": [{**VITAL_SIGNS_CATEGORY["coding"][0], "code": "survey"}]}],
                "code": {"coding": [{"system": LOINC, "code": LOINC_SYMPTOM}]},
                "valueCodeableConcept": {
                    "coding": [{"system": SNOMED, "code": SNOMED_OF_SYMPTOM[symptom]}]
                },
            }
        )
        for symptom in sorted(check_in.symptoms)
    ]
    return made


def check_in_message(
    check_in: CheckIn, *, episode: Episode, at: datetime, sender: str, source_endpoint: str
) -> FhirMessage:
    return build_message(
        event=EventCode.MONITORING_CHECK_IN,
        sender=sender,
        destinations=[organization_reference(episode.hospital)],
        focus=observations(check_in, episode=episode, at=at),
        source_endpoint=source_endpoint,
        timestamp=at,
    )


def flag(episode: Episode, *, reason: str | None = None) -> Any:
    return get_fhir_model_class("Flag").model_validate(
        {
            "resourceType": "Flag",
            "id": derived_id("fl-", episode.id),
            "status": "active" if episode.level > Level.GREEN else "inactive",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/flag-category",
                            "code": "clinical",
                        }
                    ]
                }
            ],
            "code": {
                "coding": [{"system": LEVEL_SYSTEM, "code": episode.level.code}],
                **({"text": reason} if reason else {}),
            },
            "subject": {"reference": episode.patient},
            **(
                {"period": {"start": episode.level_since.isoformat()}}
                if episode.level_since
                else {}
            ),
            "author": {"reference": organization_reference(episode.hospital)},
        }
    )


def episode_resources(episode: Episode, *, programme: Programme) -> list[Any]:
    """EpisodeOfCare (status, managing hospital, care team), its CarePlan (the check-ins at the
    programme's times each day) and the CareTeam."""
    team_id = derived_id("ct-", episode.id)
    episode_of_care = get_fhir_model_class("EpisodeOfCare").model_validate(
        {
            "resourceType": "EpisodeOfCare",
            "id": episode.id,
            "status": "finished" if episode.finished else "active",
            "type": [{"text": programme.name}],
            "patient": {"reference": episode.patient},
            "managingOrganization": {"reference": organization_reference(episode.hospital)},
            "period": _period(episode),
            "team": [{"reference": f"CareTeam/{team_id}"}],
        }
    )
    care_plan = get_fhir_model_class("CarePlan").model_validate(
        {
            "resourceType": "CarePlan",
            "id": care_plan_id(episode.id),
            "status": "completed" if episode.finished else "active",
            "intent": "plan",
            "title": f"{programme.name}: check-ins",
            "subject": {"reference": episode.patient},
            "period": _period(episode),
            "careTeam": [{"reference": f"CareTeam/{team_id}"}],
            "activity": [
                {
                    "detail": {
                        "kind": "ServiceRequest",
                        "code": {"coding": [{"system": LOINC, "code": code}]},
                        "status": "in-progress",
                        "scheduledTiming": {
                            "repeat": {
                                "timeOfDay": [t.isoformat() for t in programme.check_in_times]
                            }
                        },
                    }
                }
                for code in (*LOINC_OF_VITAL.values(), LOINC_SYMPTOM)
            ],
        }
    )
    care_team = get_fhir_model_class("CareTeam").model_validate(
        {
            "resourceType": "CareTeam",
            "id": team_id,
            "status": "active",
            "subject": {"reference": episode.patient},
            "managingOrganization": [{"reference": organization_reference(episode.hospital)}],
            "participant": [{"member": {"reference": member}} for member in episode.care_team]
            or [{"member": {"reference": organization_reference(episode.hospital)}}],
        }
    )
    return [episode_of_care, care_plan, care_team, flag(episode)]


def _period(episode: Episode) -> dict[str, str]:
    """When the episode ran; a finished one ends when its hospital finished it."""
    period = {"start": episode.started_at.isoformat()}
    if episode.finished_at is not None:
        period["end"] = episode.finished_at.isoformat()
    return period


def flag_changed_message(
    episode: Episode, *, change: LevelChange, programme: Programme, source_endpoint: str
) -> FhirMessage:
    """monitoring-flag-changed: the Flag at its new level with why, and the EpisodeOfCare, to
    the managing hospital (and the consultant hospital when it is red)."""
    destinations: Sequence[str] = [organization_reference(episode.hospital)]
    if change.after is Level.RED:
        destinations = [*destinations, organization_reference(episode.consultant_hospital)]
    episode_of_care = episode_resources(episode, programme=programme)[0]
    return build_message(
        event=EventCode.MONITORING_FLAG_CHANGED,
        sender=organization_reference(episode.hospital),
        destinations=list(dict.fromkeys(destinations)),
        focus=[flag(episode, reason=change.reason)],
        supporting=[episode_of_care],
        source_endpoint=source_endpoint,
        timestamp=change.at,
    )


def readings_json(readings: Iterable[Reading]) -> list[dict[str, Any]]:
    return [{"vital": r.vital.value, "value": r.value} for r in readings]
