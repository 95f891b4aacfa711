"""Use cases of home-isolation monitoring: enrol a patient, take a check-in (from the signed
link's form, LINE or a hospital system), lower a flag (a nurse, with a reason), chase a missed
check-in, and finish the episode (its hospital, with a reason code). The flag's changes go out
as monitoring-flag-changed through the outbox in the transaction that makes them; a rise to red
starts a teleconsult with the episode's consultant hospital (the consult workflow's own use
case)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from services.telemedicine.adapters import monitoring_fhir
from services.telemedicine.adapters import monitoring_repository as repository
from services.telemedicine.adapters.monitoring_notices import missed_check_in_alert, reminder
from services.telemedicine.domain.episode import Episode, FinishReason
from services.telemedicine.domain.model import Consult
from services.telemedicine.domain.monitoring import (
    Assessment,
    CheckIn,
    Level,
    LevelChange,
    Overdue,
    assess,
    lowered,
    next_check_in,
    overdue,
    raised,
)
from services.telemedicine.service import consult_opening
from services.telemedicine.service.monitoring_context import MonitoringContext
from shared.db.pool import Connection
from shared.errors import Forbidden, InvalidInput, NotFound, RuleBroken
from shared.fhir.envelope import FhirMessage
from shared.fhir.ids import derived_id
from shared.messaging.outbox import add_to_outbox
from shared.messaging.topics import NOTIFICATION_REQUESTS, TELEMEDICINE_EVENTS
from shared.province_time import PROVINCE_ZONE
from shared.workflow.episode_ids import new_episode_id


class EpisodeNotFound(NotFound):
    """No such episode, or not one of the caller's hospital: a third hospital is told the same
    as for an episode that does not exist."""

    def __init__(self, episode_id: str) -> None:
        super().__init__(f"No monitoring episode {episode_id[:80]!r}")


class EpisodeFinished(RuleBroken):
    """A check-in or a flag change for an episode its hospital has finished: told so, not
    taken."""

    def __init__(self, episode_id: str) -> None:
        super().__init__(f"The monitoring episode {episode_id[:80]!r} has ended")


class NotManagingHospital(Forbidden):
    def __init__(self) -> None:
        super().__init__("Only the hospital that manages the episode may change it")


@dataclass(frozen=True, kw_only=True)
class Enrolment:
    hospital: str
    patient: str
    hospital_number: str
    consultant_hospital: str | None = None
    programme: str = "home-isolation"
    line_user: str | None = None
    phone: str | None = None
    language: str = "th"
    care_team: tuple[str, ...] = ()
    first_check_in: datetime | None = None


async def enrol(
    connection: Connection, *, enrolment: Enrolment, context: MonitoringContext, now: datetime
) -> Episode:
    programme = context.programme(enrolment.programme)
    consultant = enrolment.consultant_hospital or context.default_consultant_hospital
    if consultant is None:
        raise InvalidInput(
            "Name the consultant hospital a red flag pages", expression="consultant_hospital"
        )
    episode = Episode(
        id=new_episode_id(),
        hospital=enrolment.hospital,
        consultant_hospital=consultant,
        patient=enrolment.patient,
        hospital_number=enrolment.hospital_number,
        programme=programme.name,
        started_at=now,
        next_check_in=enrolment.first_check_in
        or next_check_in(now, times=programme.check_in_times, zone=PROVINCE_ZONE),
        line_user=enrolment.line_user,
        phone=enrolment.phone,
        language=enrolment.language,
        care_team=enrolment.care_team,
    )
    await repository.insert_episode(connection, episode=episode)
    return episode


@dataclass(frozen=True)
class CheckInOutcome:
    episode: Episode
    assessment: Assessment
    # The flag's rise this check-in caused, if any.
    change: LevelChange | None


async def take_check_in(
    connection: Connection,
    *,
    episode: Episode,
    check_in: CheckIn,
    source: str,
    context: MonitoringContext,
    now: datetime,
) -> CheckInOutcome:
    """Records the check-in and what it counted for; ``episode`` was read FOR UPDATE. A
    check-in of implausible readings only does not count (the check-in stays due)."""
    programme = context.programme(episode.programme)
    assessment = assess(check_in, programme)
    await repository.add_check_in(
        connection,
        episode_id=episode.id,
        check_in=check_in,
        assessment=assessment,
        source=source,
        at=now,
    )
    counted = len(assessment.implausible) < len(check_in.readings) or bool(check_in.symptoms)
    if counted:
        episode = episode.checked_in(at=now, programme=programme)
    change = raised(episode.level, assessment, at=now)
    if change is not None:
        episode = await _change_level(connection, episode, change, context=context)
        if change.after is Level.RED:
            episode = await _start_consult(connection, episode, context=context, now=now)
    await repository.save_episode(connection, episode=episode)
    return CheckInOutcome(episode, assessment, change)


async def managed_episode(
    connection: Connection, *, episode_id: str, hospital: str, for_update: bool = True
) -> Episode:
    """The episode ``hospital`` manages, to change: 404 when it neither manages nor consults on
    it (as for one that does not exist), 403 when it only consults on it."""
    episode = await repository.get_episode(
        connection, episode_id=episode_id, party=hospital, for_update=for_update
    )
    if episode is None:
        raise EpisodeNotFound(episode_id)
    if episode.hospital != hospital:
        raise NotManagingHospital()
    return episode


async def lower_flag(
    connection: Connection,
    *,
    episode_id: str,
    hospital: str,
    to: Level,
    by: str,
    reason: str,
    context: MonitoringContext,
    now: datetime,
) -> Episode:
    """A nurse of the managing hospital lowers the flag, saying why (audited with their name)."""
    episode = await managed_episode(connection, episode_id=episode_id, hospital=hospital)
    if episode.finished:
        raise EpisodeFinished(episode_id)
    change = lowered(episode.level, to, by=by, reason=reason, at=now)
    episode = await _change_level(connection, episode, change, context=context)
    await repository.save_episode(connection, episode=episode)
    return episode


async def finish_episode(
    connection: Connection,
    *,
    episode_id: str,
    hospital: str,
    reason: FinishReason,
    by: str,
    now: datetime,
) -> Episode:
    """The managing hospital ends the episode (the patient recovered, was admitted, left the
    programme or died): no more reminders or missed check-in alerts, the patient's link and
    check-ins are refused, and it leaves the board. Finishing it again changes nothing."""
    episode = await managed_episode(connection, episode_id=episode_id, hospital=hospital)
    finished = episode.finish(at=now, reason=reason, by=by)
    if finished is not episode:
        await repository.save_episode(connection, episode=finished)
    return finished


async def chase_missed_check_in(
    connection: Connection, *, episode_id: str, context: MonitoringContext, now: datetime
) -> Overdue | None:
    """A check-in is late: remind the patient (LINE or SMS, through the notifier), later alert
    the managing hospital's nurses; each once per missed check-in."""
    episode = await repository.get_episode(connection, episode_id=episode_id, for_update=True)
    if episode is None or episode.finished:
        return None
    step = overdue(
        due=episode.next_check_in,
        now=now,
        reminded=episode.reminded,
        alerted=episode.alerted,
        programme=context.programme(episode.programme),
    )
    if step is Overdue.REMIND:
        if episode.line_user or episode.phone:
            await _notify(
                connection,
                episode,
                reminder(
                    episode,
                    link=context.check_in_url(episode.id),
                    source_endpoint=context.consults.source_endpoint,
                ),
            )
        episode = dataclasses.replace(episode, reminded=True)
    elif step is Overdue.ALERT:
        await _notify(
            connection,
            episode,
            missed_check_in_alert(
                episode, link=context.board_url, source_endpoint=context.consults.source_endpoint
            ),
        )
        episode = dataclasses.replace(episode, alerted=True)
    if step is not None:
        await repository.save_episode(connection, episode=episode)
    return step


async def _change_level(
    connection: Connection, episode: Episode, change: LevelChange, *, context: MonitoringContext
) -> Episode:
    episode = episode.with_level(change)
    await repository.add_level_change(connection, episode_id=episode.id, change=change)
    await add_to_outbox(
        connection,
        topic=TELEMEDICINE_EVENTS,
        key=episode.id,
        message=monitoring_fhir.flag_changed_message(
            episode,
            change=change,
            programme=context.programme(episode.programme),
            source_endpoint=context.consults.source_endpoint,
        ),
    )
    return episode


async def _start_consult(
    connection: Connection, episode: Episode, *, context: MonitoringContext, now: datetime
) -> Episode:
    """Each rise to red starts a teleconsult of its own with the episode's consultant hospital
    (keyed by the episode: its messages stay in order with the flag's)."""
    started = episode.consults_started + 1
    consult = dataclasses.replace(
        Consult.for_referral(
            referral_id=episode.id,
            requester_org=episode.hospital,
            consultant_org=episode.consultant_hospital,
            at=now,
            patient=episode.patient,
        ),
        id=derived_id("tc-", f"{episode.id}-{started}"),
        episode=episode.id,
    )
    await consult_opening.start(connection, consult, context=context.consults, now=now)
    return dataclasses.replace(episode, consults_started=started)


async def _notify(connection: Connection, episode: Episode, message: FhirMessage) -> None:
    await add_to_outbox(connection, topic=NOTIFICATION_REQUESTS, key=episode.id, message=message)
