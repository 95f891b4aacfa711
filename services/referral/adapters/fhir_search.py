"""FHIR search on referrals (Task, ServiceRequest), as the R4B search specification reads.

- Token and reference parameters: comma-separated values are ORed, repeated parameters ANDed;
  an empty value is ignored.
- ``_lastUpdated`` (date): the prefixes eq, ne, gt, lt, ge, le, sa, eb and ap, and a value at
  any precision: ``2026``, ``2026-11``, ``2026-11-01``, ``2026-11-01T09:00``, with seconds and
  fractions; a value without a time zone is read in the province's zone (Asia/Bangkok). The value
  stands for the range of its precision (``ge2026-11`` = from 1 November 00:00).
- ``_count`` (default DEFAULT_COUNT, at most MAX_COUNT; 0 gives the total only), ``_offset`` for
  the pages the ``next``/``previous``/``first`` links point at, ``_total`` (none, estimate or
  accurate: the total is always exact, and left out for none), ``_format`` (JSON only).
- Unknown parameters: refused with 400 naming them (strict, as the CapabilityStatement says),
  unless the request says ``Prefer: handling=lenient``: then they are ignored and left out of the
  self link, which shows what was applied.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from services.referral.adapters import fhir_dates
from shared.workflow.task_state import TaskStatus

DEFAULT_COUNT = 50
MAX_COUNT = 200
TOTAL_MODES = ("none", "estimate", "accurate")
JSON_FORMATS = ("json", "application/json", "application/fhir+json")
RESULT_PARAMETERS = ("_count", "_offset", "_total", "_format")

# ServiceRequest.status (http://hl7.org/fhir/request-status) follows the referral Task.
SERVICE_REQUEST_STATUS: Mapping[TaskStatus, str] = {
    TaskStatus.DRAFT: "draft",
    TaskStatus.REQUESTED: "active",
    TaskStatus.RECEIVED: "active",
    TaskStatus.ACCEPTED: "active",
    TaskStatus.READY: "active",
    TaskStatus.IN_PROGRESS: "active",
    TaskStatus.ON_HOLD: "active",
    TaskStatus.COMPLETED: "completed",
    TaskStatus.REJECTED: "revoked",
    TaskStatus.CANCELLED: "revoked",
    TaskStatus.FAILED: "revoked",
    TaskStatus.ENTERED_IN_ERROR: "entered-in-error",
}
REQUEST_STATUSES = (
    "draft",
    "active",
    "on-hold",
    "revoked",
    "completed",
    "entered-in-error",
    "unknown",
)
# The Patient of a referral is Patient/p-<referral id> (see fhir_mapping.patient_id).
PATIENT_PREFIX = "p-"


class BadSearch(Exception):
    """A search the server refuses; ``reason`` is safe to show the caller."""

    def __init__(self, reason: str, *, issue_code: str = "invalid") -> None:
        super().__init__(reason)
        self.reason = reason
        self.issue_code = issue_code
        # The search parameter at fault (set by parse_search).
        self.expression: str | None = None


@dataclass
class ReferralQuery:
    """Search criteria on referrals; ``None`` is no criterion, an empty set matches nothing."""

    referral_ids: set[str] | None = None
    statuses: set[str] | None = None
    owners: set[str] | None = None
    requesters: set[str] | None = None
    # (prefix eq|ne|gt|ge|lt|le, start, end): [start, end) is the range the value stands for.
    last_updated: list[tuple[str, datetime, datetime]] = field(default_factory=list)
    count: int = DEFAULT_COUNT
    offset: int = 0
    with_total: bool = True
    # The parameters applied, for the self link (lenient handling drops the unknown ones).
    applied: list[tuple[str, str]] = field(default_factory=list)


# A search parameter: narrows the query with one (non-empty) value; the base URL resolves
# absolute references.
Parameter = Callable[[ReferralQuery, str, str], None]


def _narrow(current: set[str] | None, values: set[str]) -> set[str]:
    """Repeated parameters are ANDed; comma-separated values within one are ORed."""
    return values if current is None else current & values


def _values(value: str) -> set[str]:
    return {v.strip() for v in value.split(",") if v.strip()}


def _reference_ids(value: str, resource_type: str, base: str) -> set[str]:
    """Ids from ``Type/id``, ``id`` or ``<base>/Type/id``; references to other types match
    nothing."""
    found: set[str] = set()
    for reference in _values(value):
        reference = reference.removeprefix(f"{base}/")
        kind, slash, ident = reference.rpartition("/")
        if not slash:
            found.add(reference)
        elif kind == resource_type and ident:
            found.add(ident)
    return found


def _task_status(query: ReferralQuery, value: str, base: str) -> None:
    wanted = _values(value)
    known = {status.value for status in TaskStatus}
    unknown = sorted(wanted - known)
    if unknown:
        raise BadSearch(
            f"Unknown Task status {unknown[0][:40]!r}; "
            f"codes of http://hl7.org/fhir/task-status: {', '.join(sorted(known))}",
            issue_code="value",
        )
    query.statuses = _narrow(query.statuses, wanted)


def _service_request_status(query: ReferralQuery, value: str, base: str) -> None:
    wanted = _values(value)
    unknown = sorted(wanted - set(REQUEST_STATUSES))
    if unknown:
        raise BadSearch(
            f"Unknown ServiceRequest status {unknown[0][:40]!r}; "
            f"codes of http://hl7.org/fhir/request-status: {', '.join(REQUEST_STATUSES)}",
            issue_code="value",
        )
    statuses = {task.value for task, sr in SERVICE_REQUEST_STATUS.items() if sr in wanted}
    query.statuses = _narrow(query.statuses, statuses)


def _owner(query: ReferralQuery, value: str, base: str) -> None:
    query.owners = _narrow(query.owners, _reference_ids(value, "Organization", base))


def _requester(query: ReferralQuery, value: str, base: str) -> None:
    query.requesters = _narrow(query.requesters, _reference_ids(value, "Organization", base))


def _patient(query: ReferralQuery, value: str, base: str) -> None:
    referral_ids = {
        ident.removeprefix(PATIENT_PREFIX)
        for ident in _reference_ids(value, "Patient", base)
        if ident.startswith(PATIENT_PREFIX)
    }
    query.referral_ids = _narrow(query.referral_ids, referral_ids)


def date_range(value: str, *, now: datetime) -> tuple[str, datetime, datetime]:
    """(prefix, start, end) of a FHIR date search value; raises BadSearch when it is not one."""
    try:
        return fhir_dates.date_range(value, now=now)
    except fhir_dates.NotADate as bad:
        raise BadSearch(str(bad), issue_code="value") from None


def last_updated_parameter(now: Callable[[], datetime]) -> Parameter:
    def parse(query: ReferralQuery, value: str, base: str) -> None:
        try:
            query.last_updated.append(date_range(value, now=now()))
        except BadSearch as bad:
            raise BadSearch(f"_lastUpdated: {bad.reason}", issue_code=bad.issue_code) from None

    return parse


def search_parameters(now: Callable[[], datetime]) -> tuple[Mapping[str, Parameter], ...]:
    """(Task parameters, ServiceRequest parameters)."""
    last_updated = last_updated_parameter(now)
    task = {
        "status": _task_status,
        "owner": _owner,
        "requester": _requester,
        "patient": _patient,
        "_lastUpdated": last_updated,
    }
    service_request = {
        "status": _service_request_status,
        "requester": _requester,
        "performer": _owner,
        "patient": _patient,
        "_lastUpdated": last_updated,
    }
    return task, service_request


def parse_search(
    items: Iterable[tuple[str, str]],
    parameters: Mapping[str, Parameter],
    *,
    base: str,
    lenient: bool = False,
) -> ReferralQuery:
    """Reads the search parameters; raises BadSearch naming what is not supported (unless
    ``lenient``: then unknown parameters are ignored)."""
    query = ReferralQuery()
    for name, value in items:
        try:
            _parse_parameter(query, name, value, parameters, base=base, lenient=lenient)
        except BadSearch as bad:
            bad.expression = bad.expression or name[:60]
            raise
    return query


def _parse_parameter(
    query: ReferralQuery,
    name: str,
    value: str,
    parameters: Mapping[str, Parameter],
    *,
    base: str,
    lenient: bool,
) -> None:
    if name in RESULT_PARAMETERS:
        _result_parameter(query, name, value)
        return
    parse = parameters.get(name)
    if parse is None:
        if lenient:
            return
        supported = ", ".join([*parameters, *RESULT_PARAMETERS])
        raise BadSearch(
            f"Unknown search parameter {name[:60]!r}; supported: {supported}",
            issue_code="not-supported",
        )
    if value.strip():  # an empty parameter is ignored (FHIR search)
        parse(query, value, base)
    query.applied.append((name, value))


def _result_parameter(query: ReferralQuery, name: str, value: str) -> None:
    if name == "_total":
        if value not in TOTAL_MODES:
            raise BadSearch(f"_total must be one of {', '.join(TOTAL_MODES)}", issue_code="value")
        query.with_total = value != "none"
    elif name == "_format":
        if value.split(";")[0].strip() not in JSON_FORMATS:
            raise BadSearch("Only JSON is served (_format=json)", issue_code="not-supported")
    else:
        number = _non_negative(name, value)
        if name == "_count":
            query.count = min(number, MAX_COUNT)
        else:
            query.offset = number
        return
    query.applied.append((name, value))


def _non_negative(name: str, value: str) -> int:
    # At most 9 digits: a larger offset is no page of anything, and overflows PostgreSQL's bigint.
    number = int(value) if value.isascii() and value.isdigit() and len(value) <= 9 else -1
    if number < 0:
        raise BadSearch(f"{name} must be a whole number from 0 to 999999999", issue_code="value")
    return number


def wants_lenient(prefer: str | None) -> bool:
    """``Prefer: handling=lenient`` (RFC 7240, as FHIR search uses it)."""
    return any(
        part.strip().replace(" ", "") == "handling=lenient" for part in (prefer or "").split(",")
    )
