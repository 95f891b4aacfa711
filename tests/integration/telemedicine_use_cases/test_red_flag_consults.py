"""Every rise of a home-isolation episode's flag to red starts a teleconsult of its own: a
patient who worsens again after a nurse lowered the flag is paged about again, not silently
skipped because the episode had a consult before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.telemedicine.adapters import monitoring_repository
from services.telemedicine.domain.monitoring import HOME_ISOLATION, CheckIn, Level, Reading, Vital
from services.telemedicine.service import monitoring
from services.telemedicine.service.monitoring_context import MonitoringContext
from shared.db.pool import Connection
from shared.signed_links import LinkSigner
from tests.integration.telemedicine_use_cases.support import CONTEXT as CONSULTS

CLINIC, HUB = "tm-clinic", "tm-hub"
CONTEXT = MonitoringContext(
    consults=CONSULTS,
    programmes={HOME_ISOLATION.name: HOME_ISOLATION},
    check_in_links=LinkSigner(secret="test-secret", purpose="check-in", max_age_s=3600),
)
LOW_OXYGEN = CheckIn(readings=(Reading(Vital.SPO2, 90),))


async def _check_in_red(connection: Connection, episode_id: str, now: datetime) -> None:
    episode = await monitoring_repository.get_episode(
        connection, episode_id=episode_id, for_update=True
    )
    assert episode is not None
    outcome = await monitoring.take_check_in(
        connection, episode=episode, check_in=LOW_OXYGEN, source="web", context=CONTEXT, now=now
    )
    assert outcome.episode.level is Level.RED


async def test_a_second_rise_to_red_pages_a_second_consult(connection: Connection) -> None:
    now = datetime.now(UTC)
    episode = await monitoring.enrol(
        connection,
        enrolment=monitoring.Enrolment(
            hospital=CLINIC,
            patient="Patient/p-red-twice",
            hospital_number="HN-RED-2",
            consultant_hospital=HUB,
        ),
        context=CONTEXT,
        now=now,
    )
    await _check_in_red(connection, episode.id, now)
    await monitoring.lower_flag(
        connection,
        episode_id=episode.id,
        hospital=CLINIC,
        to=Level.GREEN,
        by="Practitioner/nurse-1",
        reason="seen at home, oxygen on",
        context=CONTEXT,
        now=now + timedelta(hours=1),
    )
    await _check_in_red(connection, episode.id, now + timedelta(hours=12))

    consults = await connection.fetch(
        "SELECT id, stage FROM consult WHERE episode_id = $1 ORDER BY requested_at", episode.id
    )
    assert len(consults) == 2
    # Both consults page the hub's on-call consultant.
    assert [row["stage"] for row in consults] == ["paging", "paging"]
