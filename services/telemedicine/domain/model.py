"""Teleconsults: a consultant's opinion requested for a referral. Plain data, no I/O."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from services.telemedicine.domain.video import new_room_name
from shared.workflow.consult_ids import referral_consult_id
from shared.workflow.consult_state import TASK_STATUS, ConsultStage, consult_transition
from shared.workflow.task_state import TaskStatus


@dataclass(frozen=True, kw_only=True)
class Consult:
    id: str
    referral_id: str
    # The teleconsult is a FHIR Task: its stage (shared/workflow/consult_state.py) gives its
    # Task.status.
    stage: ConsultStage
    requester_org: str
    # The hub hospital whose on-call consultant answers.
    consultant_org: str
    requested_at: datetime
    # The video room's name (domain/video.py): random, nobody can guess it.
    room: str
    # The patient (a Patient reference from the referral), for the recommendation's findings.
    patient: str | None = None
    # Which rung of the escalation ladder was paged last (domain/escalation.py), and when the
    # next one is due; None once nobody is being paged.
    rung: int = 0
    next_deadline: datetime | None = None
    # The person who accepted (a Practitioner reference), and the clock of the consult.
    consultant: str | None = None
    accepted_at: datetime | None = None
    video_at: datetime | None = None
    decided_at: datetime | None = None
    status_reason: str | None = None
    # A consult a home-isolation episode's red flag started (domain/episode.py): it belongs to
    # no referral (``referral_id`` then keys its messages by the episode).
    episode: str | None = None
    # A consult the spoke asked for before any referral (domain/first_consult.py): keyed by its
    # own id; ``linked_referral`` is the referral its recommendation to transfer created.
    asked_first: bool = False
    linked_referral: str | None = None

    @property
    def referral(self) -> str | None:
        """The referral Task the consult is part of, if any."""
        if self.episode is not None:
            return None
        return self.linked_referral if self.asked_first else self.referral_id

    @property
    def status(self) -> TaskStatus:
        return TASK_STATUS[self.stage]

    @staticmethod
    def for_referral(
        *,
        referral_id: str,
        requester_org: str,
        consultant_org: str,
        at: datetime,
        patient: str | None = None,
    ) -> Consult:
        # Deterministic id: the consult of a referral is the same whoever computes it.
        return Consult(
            id=referral_consult_id(referral_id),
            referral_id=referral_id,
            stage=ConsultStage.REQUESTED,
            requester_org=requester_org,
            consultant_org=consultant_org,
            requested_at=at,
            room=new_room_name(),
            patient=patient,
        )

    def moved_to(
        self,
        stage: ConsultStage,
        *,
        at: datetime,
        reason: str | None = None,
        rung: int | None = None,
        next_deadline: datetime | None = None,
        consultant: str | None = None,
    ) -> Consult:
        """The consult after one step of its workflow (refused by ``consult_transition``).
        ``rung`` and ``next_deadline``: the ladder's rung now paged and when it has had its
        time (paging only; any other stage stops the clock)."""
        consult_transition(self.stage, stage, reason=reason)
        return dataclasses.replace(
            self,
            stage=stage,
            status_reason=reason,
            rung=self.rung if rung is None else rung,
            next_deadline=next_deadline if stage is ConsultStage.PAGING else None,
            consultant=consultant or self.consultant,
            accepted_at=at if stage is ConsultStage.ACCEPTED else self.accepted_at,
            video_at=at if stage is ConsultStage.IN_VIDEO else self.video_at,
            decided_at=at if stage is ConsultStage.RECOMMENDED else self.decided_at,
        )


@dataclass(frozen=True, kw_only=True)
class ConsultStep:
    """One step of a consult, as its timeline and its event show it."""

    consult_id: str
    stage: ConsultStage
    occurred_at: datetime
    rung: int
    reason: str | None = None
    # Who took the step: a Practitioner or Organization reference; None for the service itself.
    actor: str | None = None


def step_of(consult: Consult, *, at: datetime, actor: str | None = None) -> ConsultStep:
    return ConsultStep(
        consult_id=consult.id,
        stage=consult.stage,
        occurred_at=at,
        rung=consult.rung,
        reason=consult.status_reason,
        actor=actor,
    )
