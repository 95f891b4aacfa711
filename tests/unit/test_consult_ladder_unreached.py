"""The ladder's rules for a page that reached nobody at all (the notifier's final failure: no
roster, every channel failed): the rung waiting for an answer is left at once, as on a decline;
an older rung's failure, a repeat, or one after someone accepted changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.telemedicine.domain.escalation import (
    LAST_RUNG,
    Rung,
    climbs_when_unreached,
    next_rung,
)
from services.telemedicine.domain.model import Consult
from shared.workflow.consult_state import ConsultStage

AT = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


def _consult(stage: ConsultStage, rung: int) -> Consult:
    requested = Consult.for_referral(
        referral_id="ref-1", requester_org="spoke", consultant_org="hub", at=AT
    )
    paging = requested.moved_to(ConsultStage.PAGING, at=AT, rung=rung, next_deadline=AT)
    if stage is ConsultStage.PAGING:
        return paging
    return paging.moved_to(stage, at=AT, reason="a reason")


def test_each_rung_is_followed_by_the_next_and_the_last_by_none() -> None:
    assert next_rung(Rung.ON_CALL) is Rung.BACKUP
    assert next_rung(Rung.BACKUP) is Rung.STROKE_LEAD
    assert next_rung(LAST_RUNG) is None


@pytest.mark.parametrize("rung", list(Rung))
def test_the_final_failure_of_the_rung_being_paged_climbs_now(rung: Rung) -> None:
    assert climbs_when_unreached(_consult(ConsultStage.PAGING, rung), paged_rung=rung)


def test_the_final_failure_of_an_older_rungs_page_changes_nothing() -> None:
    consult = _consult(ConsultStage.PAGING, Rung.STROKE_LEAD)
    assert not climbs_when_unreached(consult, paged_rung=Rung.ON_CALL)
    assert not climbs_when_unreached(consult, paged_rung=Rung.BACKUP)


@pytest.mark.parametrize(
    "stage", [ConsultStage.ACCEPTED, ConsultStage.CANCELLED, ConsultStage.FAILED]
)
def test_a_final_failure_after_an_answer_or_the_end_changes_nothing(stage: ConsultStage) -> None:
    assert not climbs_when_unreached(_consult(stage, Rung.ON_CALL), paged_rung=Rung.ON_CALL)
