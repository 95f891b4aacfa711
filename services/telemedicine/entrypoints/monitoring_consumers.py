"""Kafka entry points of home-isolation monitoring: check-ins as vital-signs Observations,
from a hospital system (on its own inbound topic, in its own name) or from the network's own
producers (the notifier passes LINE answers on, on the network's inbound topic)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from services.telemedicine.adapters import monitoring_fhir
from services.telemedicine.adapters import monitoring_repository as repository
from services.telemedicine.domain.episode import Episode
from services.telemedicine.service import monitoring
from services.telemedicine.service.monitoring_context import MonitoringContext
from shared.db.pool import Connection
from shared.fhir.codes import NETWORK_ORGANIZATION, EventCode
from shared.fhir.envelope import FhirMessage
from shared.fhir.references import organization_id
from shared.messaging.message_handlers import MessageHandler
from shared.messaging.topics import HOSPITAL_INBOUND, HOSPITAL_INBOUND_TOPICS
from shared.runtime import ServiceRuntime

# Where a check-in came from (kept with it).
FROM_HOSPITAL, FROM_LINE = "hospital", "line"


def wire_monitoring_consumers(
    runtime: ServiceRuntime,
    context: MonitoringContext,
    *,
    also: Mapping[EventCode, MessageHandler] | None = None,
) -> None:
    """``also``: the service's other handlers of hospitals' messages (one consumer per topic)."""

    async def on_check_in(connection: Connection, message: FhirMessage) -> None:
        await apply_check_in(connection, message, context=context, now=datetime.now(UTC))

    for topic in (HOSPITAL_INBOUND_TOPICS, HOSPITAL_INBOUND):
        runtime.subscribe(
            topic,
            {EventCode.MONITORING_CHECK_IN: on_check_in, **(also or {})},
            # The referral service owns the hospitals' inbound topics: it dead-letters a record
            # that is not a message and answers the hospital.
            dead_letters_unreadable=False,
        )


async def apply_check_in(
    connection: Connection, message: FhirMessage, *, context: MonitoringContext, now: datetime
) -> None:
    """The check-in of the episode its Observations are based on (its CarePlan), else of the
    sender's patient. A hospital reports only the episodes it manages; the network (LINE)
    only an episode's own LINE user's answers. Refused (dead-lettered with the reason)
    otherwise."""
    observed = monitoring_fhir.check_in_from_message(message)
    from_network = message.sender == NETWORK_ORGANIZATION
    hospital = None if from_network else organization_id(message.sender)
    episode: Episode | None = None
    if observed.care_plan is not None:
        episode = await repository.get_episode(
            connection,
            episode_id=monitoring_fhir.episode_of_care_plan(observed.care_plan),
            for_update=True,
        )
        if episode is not None and not from_network and episode.hospital != hospital:
            episode = None  # another hospital's patient: as if there were no such episode
        if (
            episode is not None
            and from_network
            and (observed.line_user is None or observed.line_user != episode.line_user)
        ):
            episode = None  # a LINE answer only from the LINE user the episode names
    elif hospital is not None and observed.patient is not None:
        episode = await repository.active_episode_of_patient(
            connection, hospital=hospital, patient=observed.patient
        )
    if episode is None:
        raise monitoring.EpisodeNotFound(observed.care_plan or observed.patient or "")
    if episode.finished:
        raise monitoring.EpisodeFinished(episode.id)
    await monitoring.take_check_in(
        connection,
        episode=episode,
        check_in=observed.check_in,
        source=FROM_LINE if from_network else FROM_HOSPITAL,
        context=context,
        now=now,
    )
