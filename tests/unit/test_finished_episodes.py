"""A home-isolation episode its hospital ends: finished once, with a coded reason, and the
watchers, the board and the patient's form no longer count it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.telemedicine.domain.episode import Episode, FinishReason
from shared.errors import InvalidInput

STARTED = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def _episode() -> Episode:
    return Episode(
        id="ep-1",
        hospital="sikao-hospital",
        consultant_hospital="trang-hospital",
        patient="Patient/p-1",
        hospital_number="HN1",
        programme="home-isolation",
        started_at=STARTED,
        next_check_in=STARTED + timedelta(hours=7),
    )


def test_an_episode_is_finished_once_with_when_why_and_by_whom() -> None:
    at = STARTED + timedelta(days=10)
    finished = _episode().finish(at=at, reason=FinishReason.ADMITTED, by="Practitioner/n-1")
    assert finished.finished
    assert (finished.finished_at, finished.finish_reason, finished.finished_by) == (
        at,
        FinishReason.ADMITTED,
        "Practitioner/n-1",
    )
    # A retry (or a second nurse) changes nothing: the first ending stands.
    again = finished.finish(
        at=at + timedelta(hours=1), reason=FinishReason.COMPLETED, by="Practitioner/n-2"
    )
    assert again == finished


def test_a_reason_is_one_of_the_codes_and_a_story_is_refused_naming_the_field() -> None:
    assert FinishReason.of("died") is FinishReason.DIED
    with pytest.raises(InvalidInput) as refused:
        FinishReason.of("went to stay with her daughter in Hat Yai")
    assert refused.value.expression == "reason"
    assert "completed, admitted, withdrawn, died" in str(refused.value)
