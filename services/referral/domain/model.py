"""The referral as the domain sees it: plain data and rules, no framework or I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.workflow.task_state import TaskStatus

if TYPE_CHECKING:
    from services.referral.domain.lifecycle import ReportedTime

MAX_NIHSS = 42


class InvalidRequest(ValueError):
    """A request the service cannot act on; ``reason`` says why, for the sender."""

    def __init__(self, reason: str, *, expression: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.expression = expression


class InvalidReferral(InvalidRequest):
    """The request cannot become a referral; ``reason`` says why, for the sender."""

    def __init__(self, reason: str, *, expression: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.expression = expression


class ReferralNotFound(LookupError):
    pass


class NotAParty(PermissionError):
    """The sender is not the organization allowed to make this change."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, kw_only=True)
class RequestReferral:
    """Command: a spoke hospital asks the hub to take a suspected stroke patient."""

    referral_id: str
    request_message_id: str
    requester_org: str
    owner_org: str
    patient_hn: str
    # The hospital number's identifier system, when not the project's own.
    patient_hn_system: str | None = None
    patient_gender: str | None = None
    patient_birth_date: str | None = None
    last_known_well: datetime | None = None
    # How sure the LKW is: recorded | device | estimated, and uncertain (a wake-up stroke).
    lkw_source: str = "recorded"
    lkw_uncertain: bool = False
    nihss: int | None = None
    suspected_lvo: bool | None = None
    teleconsult_requested: bool = False
    requested_at: datetime
    # A pre-alert announces the patient before the full referral (hospital number may be unknown).
    prealert: bool = False
    # When the receiving hospital must have answered (Task.restriction.period.end), or None for
    # the network's default response time.
    accept_by: datetime | None = None
    # The referral this one re-routes (declined, or not accepted in time).
    replaces: str | None = None
    # Clinical times the referring hospital reports with the request (e.g. its door-in).
    reported_times: tuple[ReportedTime, ...] = ()

    def __post_init__(self) -> None:
        if self.requester_org == self.owner_org:
            raise InvalidReferral(
                "A hospital cannot refer a patient to itself", expression="Task.owner"
            )
        if self.nihss is not None and not 0 <= self.nihss <= MAX_NIHSS:
            raise InvalidReferral(
                f"NIHSS must be between 0 and {MAX_NIHSS}", expression="Observation.value"
            )
        if self.last_known_well is not None:
            if self.last_known_well.tzinfo is None:
                raise InvalidReferral(
                    "Last known well needs a time zone", expression="Observation.effective"
                )
            if self.last_known_well > self.requested_at:
                raise InvalidReferral(
                    "Last known well cannot be after the request",
                    expression="Observation.effective",
                )
        if not self.prealert and not self.patient_hn.strip():
            raise InvalidReferral("The patient's hospital number is required")


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


@dataclass(frozen=True, kw_only=True)
class TimelineEntry:
    """One time-stamped step: when it happened clinically and when the system learned of it."""

    event_code: str
    occurred_at: datetime
    recorded_at: datetime
    source: str
    detail: dict[str, Any] = field(default_factory=dict)
