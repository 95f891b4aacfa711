"""The referral as the domain sees it: plain data and rules, no framework or I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.workflow.task_state import TaskStatus


@dataclass(frozen=True, kw_only=True)
class Referral:
    id: str
    status: TaskStatus
    requester_org: str
    owner_org: str
    patient_hn: str
    last_known_well: datetime | None
    nihss: int | None
    suspected_lvo: bool | None
    teleconsult_requested: bool
    created_at: datetime
    prealert: bool = False
    accept_by: datetime | None = None
    replaces: str | None = None
    replaced_by: str | None = None
    routing: dict[str, Any] | None = None
    # The bedside findings (domain/assessment.py, as stored) and the person who sent it from
    # the web app, when one did.
    assessment: dict[str, Any] | None = None
    requested_by: str | None = None


@dataclass(frozen=True, kw_only=True)
class TimelineEntry:
    """One time-stamped step: when it happened clinically and when the system learned of it."""

    event_code: str
    occurred_at: datetime
    recorded_at: datetime
    source: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Availability:
    """What a hospital has out of service right now (CT down, stroke unit full)."""

    organization_id: str
    unavailable: frozenset[str]


@dataclass(frozen=True, kw_only=True)
class ReferralSnapshot:
    """A referral as hospitals read it (FHIR read and search): when its Task last changed, and
    the latest statusReason and businessStatus its timeline gave."""

    referral: Referral
    last_updated: datetime
    status_reason: str | None
    business_status: str | None
