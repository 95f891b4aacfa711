"""Intake: a referral (or pre-alert) arrives, is routed, stored, announced and its alert sent."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from opentelemetry import trace

from services.referral.adapters import (
    fhir_mapping,
    notification_texts,
    repository,
    timeline_repository,
)
from services.referral.domain.commands import ReportedTime, RequestReferral
from services.referral.domain.directory import DirectoryEntry
from services.referral.domain.errors import (
    InvalidReferral,
    NoDestination,
    ReferralConflict,
)
from services.referral.domain.milestone_naming import milestones_of_request
from services.referral.domain.model import Referral
from services.referral.domain.routing import (
    Hospital,
    RoutingDecision,
    RoutingRequest,
    TravelTimes,
    recommend,
)
from services.referral.service.context import ReferralContext
from services.referral.service.patient_clock import record_milestones
from shared.db.pool import Connection
from shared.errors import DomainError
from shared.fhir.codes import EventCode
from shared.messaging.inbox import Claim, InboxEntry
from shared.messaging.outbox import OutboxEvent, add_all_to_outbox
from shared.messaging.topics import NOTIFICATION_REQUESTS, REFERRAL_EVENTS
from shared.tracing import ReferralIds, about_referral, name_trace
from shared.vocabulary.milestones import MilestoneCode

_tracer = trace.get_tracer(__name__)

# The latest accept-by deadline (Task.restriction.period.end) a referring hospital may set.
ACCEPT_BY_AT_MOST = timedelta(hours=24)


async def load_hospitals(connection: Connection) -> dict[str, Hospital]:
    """The directory as routing sees it: capabilities minus what is out of service now."""
    return {entry.id: entry.for_routing() for entry in await repository.directory(connection)}


async def advise(
    connection: Connection,
    *,
    request: RequestReferral,
    travel: TravelTimes,
    excluded: frozenset[str] = frozenset(),
) -> RoutingDecision:
    """Routing advice for a request; kept with the referral, with its reasons."""
    return advise_among(
        await load_hospitals(connection), request=request, travel=travel, excluded=excluded
    )


def advise_among(
    hospitals: Mapping[str, Hospital],
    *,
    request: RequestReferral,
    travel: TravelTimes,
    excluded: frozenset[str] = frozenset(),
) -> RoutingDecision:
    if request.requester_org not in hospitals:
        raise InvalidReferral(
            f"Unknown requesting organization {request.requester_org!r}",
            expression="Task.requester",
        )
    return recommend(
        RoutingRequest(
            origin_id=request.requester_org,
            now=request.requested_at,
            last_known_well=request.last_known_well,
            nihss=request.nihss,
            suspected_lvo=request.suspected_lvo,
            excluded=excluded,
        ),
        hospitals,
        travel,
    )


def decision_json(decision: RoutingDecision) -> dict[str, Any]:
    # Field by field: ``dataclasses.asdict`` deep-copied every reason's code and parameters
    # only for them to be replaced below (a deep copy per value, at every intake).
    return {
        "destination_id": decision.destination_id,
        "care_model": decision.care_model.value if decision.care_model else None,
        "travel_minutes": decision.travel_minutes,
        # The English sentences for machines and logs; the codes for pages in a person's
        # language.
        "reasons": [str(reason) for reason in decision.reasons],
        "reason_codes": [reason.to_json() for reason in decision.reasons],
        "alternatives": list(decision.alternatives),
    }


async def request_referral(
    connection: Connection, *, request: RequestReferral, context: ReferralContext
) -> str:
    """Stores the referral, its first timeline step and its events; returns the referral id.

    Sending the same request message again returns the same referral and emits nothing new.
    """
    return (await intake_referral(connection, request=request, context=context)).id


async def intake_referral(
    connection: Connection,
    *,
    request: RequestReferral,
    context: ReferralContext,
    directory: Mapping[str, DirectoryEntry] | None = None,
) -> Referral:
    """``request_referral``, returning the referral as stored (the row its INSERT returned:
    nothing reads it back). ``directory``: the hospitals by id, if the caller read them."""
    ids = ReferralIds.of(request.referral_id, (request.requester_org, request.owner_org))
    with _tracer.start_as_current_span("referral intake"), about_referral(ids):
        return await _request_referral(
            connection, request=request, context=context, directory=directory
        )


async def _request_referral(
    connection: Connection,
    *,
    request: RequestReferral,
    context: ReferralContext,
    directory: Mapping[str, DirectoryEntry] | None = None,
) -> Referral:
    # A request stored already (the same message again) is recognised by its INSERT's
    # conflict, or by a refusal: it is looked up only then, not before every intake.
    try:
        request, decision, requester_name = await _checked(
            connection, request=request, context=context, directory=directory
        )
    except InvalidReferral:
        if (existing := await _stored_request(connection, request)) is not None:
            return existing
        raise
    new = _new_referral(request, decision, requester_name=requester_name, context=context)
    # The referral, its first timeline step, its clock's first milestones and its events: one
    # statement (its events are built from the request, before it).
    referral = await repository.insert_referral(
        connection,
        request=request,
        routing=new.routing,
        first_entry=new.first_entry,
        milestones=new.milestones,
        events=new.events,
    )
    if referral is not None:
        return referral
    if (existing := await _stored_request(connection, request)) is not None:
        return existing
    prealerted = await repository.get_referral(
        connection, referral_id=request.referral_id, for_update=True
    )
    if not (
        prealerted is not None
        and prealerted.prealert
        and not request.prealert
        and (prealerted.requester_org, prealerted.owner_org)
        == (request.requester_org, request.owner_org)
    ):
        raise ReferralConflict(request.referral_id)
    referral = await repository.complete_prealert(connection, request=request, routing=new.routing)
    await timeline_repository.add_timeline_entry(
        connection, referral_id=request.referral_id, **asdict(new.first_entry)
    )
    await record_milestones(
        connection,
        referral_id=request.referral_id,
        reported_by=request.requester_org,
        milestones=new.named,
    )
    # (The completed pre-alert's stroke team was paged by the pre-alert.)
    await add_all_to_outbox(
        connection,
        _events(request, requester_name=requester_name, context=context, announced=True),
    )
    return referral


@dataclass(frozen=True)
class _NewReferral:
    """What the intake's statement writes besides the referral: its routing advice, first
    timeline step, clock's milestones (as named and as rows) and events."""

    routing: dict[str, Any]
    first_entry: timeline_repository.NewTimelineEntry
    named: list[tuple[MilestoneCode, ReportedTime]]
    milestones: list[repository.NewMilestone]
    events: list[OutboxEvent]


def _new_referral(
    request: RequestReferral,
    decision: RoutingDecision,
    *,
    requester_name: str,
    context: ReferralContext,
) -> _NewReferral:
    event = EventCode.STROKE_PREALERT if request.prealert else EventCode.REFERRAL_REQUESTED
    first_entry = timeline_repository.NewTimelineEntry(
        event_code=event.value,
        occurred_at=request.requested_at,
        source=f"Organization/{request.requester_org}",
        message_id=request.request_message_id,
        detail={
            "requester": request.requester_org,
            "owner": request.owner_org,
            "teleconsult_requested": request.teleconsult_requested,
            "care_model": decision.care_model.value if decision.care_model else None,
            **({"replaces": request.replaces} if request.replaces else {}),
            **({"transfer_of": request.continues} if request.continues else {}),
            **({"from_consult": request.from_consult} if request.from_consult else {}),
        },
    )
    # The patient's clock is kept by a re-routed referral and a transfer: nothing new on it.
    starts_clock = request.replaces is None and request.continues is None
    named = list(milestones_of_request(request)) if starts_clock else []
    return _NewReferral(
        routing=decision_json(decision),
        first_entry=first_entry,
        named=named,
        milestones=milestone_rows(request, named),
        events=_events(request, requester_name=requester_name, context=context),
    )


async def intake_claimed(
    connection: Connection,
    *,
    request: RequestReferral,
    context: ReferralContext,
    directory: Mapping[str, DirectoryEntry],
    inbox: InboxEntry,
) -> tuple[Claim, Referral | None] | None:
    """``intake_referral`` with the hospital's message recorded in the inbox by the intake's
    one statement (no transaction): what the claim found and, when FIRST, the referral as
    stored. None, with nothing written, when the intake needs more than that statement (a
    request the checks refuse, a pre-alert it completes, a referral id or request stored
    already): the caller claims the message and applies it in a transaction."""
    ids = ReferralIds.of(request.referral_id, (request.requester_org, request.owner_org))
    with _tracer.start_as_current_span("referral intake"), about_referral(ids):
        try:
            request, decision, requester_name = await _checked(
                connection, request=request, context=context, directory=directory
            )
        except DomainError:
            return None  # refused, unless the message is a repeat: the claim says first
        new = _new_referral(request, decision, requester_name=requester_name, context=context)
        claim, referral = await repository.insert_claimed_referral(
            connection,
            request=request,
            routing=new.routing,
            first_entry=new.first_entry,
            milestones=new.milestones,
            events=new.events,
            inbox=inbox,
        )
        return None if claim is None else (claim, referral)


def _events(
    request: RequestReferral,
    *,
    requester_name: str,
    context: ReferralContext,
    announced: bool = False,
) -> list[OutboxEvent]:
    """What a new referral announces, in this order: the referral event, the hub's on-call
    consultant's page when it asks for a teleconsult, and the stroke team's alert unless the
    pre-alert it completes ``announced`` the patient already."""
    events = [
        OutboxEvent(
            REFERRAL_EVENTS,
            request.referral_id,
            fhir_mapping.referral_requested_message(
                request, source_endpoint=context.source_endpoint
            ),
        )
    ]
    if request.teleconsult_requested and not request.prealert:
        # The hub's on-call consultant is paged with the referral itself, not one Kafka hop
        # later by telemedicine, which opens the consult from the referral event, records this
        # page as its ladder's first rung and escalates from it (docs/architecture.md).
        page = context.on_call.first_page(
            referral_id=request.referral_id,
            requester_org=request.requester_org,
            hub=request.owner_org,
            source_endpoint=context.source_endpoint,
        )
        events.append(OutboxEvent(NOTIFICATION_REQUESTS, request.referral_id, page))
    if not announced:
        alert = notification_texts.stroke_team_alert(
            request,
            requester_name=requester_name,
            referral_url=context.referral_url(request.referral_id),
            source_endpoint=context.source_endpoint,
        )
        events.append(OutboxEvent(NOTIFICATION_REQUESTS, request.referral_id, alert))
    return events


async def _checked(
    connection: Connection,
    *,
    request: RequestReferral,
    context: ReferralContext,
    directory: Mapping[str, DirectoryEntry] | None,
) -> tuple[RequestReferral, RoutingDecision, str]:
    """The request routed and checked against the directory (read now unless the caller read
    it): with its destination and answer deadline filled in, the advice, the requester's name.
    Raises a DomainError when it is refused."""
    if directory is None:
        directory = await context.directory.entries(connection)
    hospitals = context.directory.for_routing(directory)
    decision = advise_among(hospitals, request=request, travel=context.travel)
    requester_name = directory[request.requester_org].name
    if not request.owner_org:
        if decision.destination_id is None:
            raise NoDestination(decision.reasons)
        request = replace(request, owner_org=decision.destination_id)
        name_trace(ReferralIds.of(request.referral_id, (request.owner_org,)))
    if request.owner_org not in directory:
        raise InvalidReferral(
            f"Unknown receiving organization {request.owner_org!r}", expression="Task.owner"
        )
    if request.accept_by is not None and request.accept_by > datetime.now(UTC) + ACCEPT_BY_AT_MOST:
        # A deadline that far ahead would keep the patient waiting on a hospital that does not
        # answer: re-routing is what the deadline is for.
        raise InvalidReferral(
            f"Task.restriction.period.end is more than {ACCEPT_BY_AT_MOST} ahead; an acute "
            "referral needs an answer within minutes",
            expression="Task.restriction.period.end",
        )
    if request.accept_by is None:
        # The answer is due a set time after the referring hospital asked (Task.authoredOn),
        # never counted from later than the network received it (a clock a little ahead).
        asked = min(request.requested_at, datetime.now(UTC))
        request = replace(request, accept_by=asked + context.accept_within)
    return request, decision, requester_name


def milestone_rows(
    request: RequestReferral, milestones: Iterable[tuple[MilestoneCode, ReportedTime]]
) -> list[repository.NewMilestone]:
    """A new referral's milestones as rows: each at the hospital its resource names, else the
    requester's."""
    return [
        (
            code.value,
            reported.occurred_at,
            reported.source,
            reported.uncertain,
            reported.hospital or request.requester_org,
        )
        for code, reported in milestones
    ]


async def _stored_request(connection: Connection, request: RequestReferral) -> Referral | None:
    """The referral the sender's request message made already, if it did."""
    referral_id = await repository.referral_id_for_request(
        connection,
        requester_org=request.requester_org,
        request_message_id=request.request_message_id,
    )
    if referral_id is None:
        return None
    referral = await repository.get_referral(connection, referral_id=referral_id)
    if referral is None:
        raise LookupError(f"referral {referral_id} is missing though its request is known")
    return referral
