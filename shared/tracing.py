"""What every span of a referral's trace says about it: the referral id and its hospitals' ids.

An operator searches the trace UI by referral id, so every span of the trace carries it (and the
ids of the hospitals taking part), never patient data. The ids travel with the trace as W3C
baggage (in HTTP headers, in Kafka record headers and in the outbox's stored trace context, the
same way ``traceparent`` does) and ``ReferralSpanProcessor`` copies them onto each span as it
starts: from the parent span when it is in this process, from the baggage when the parent came
from another one. Where a process first learns the ids (a referral arrives; a message is read),
``about_referral`` puts them on the spans already open in the trace and into the baggage.

Only these two keys are ever read from baggage, and only values shaped like FHIR ids: whatever
else a caller sends in a ``baggage`` header never reaches a span.
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from opentelemetry import baggage, context, propagate, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from shared.fhir.codes import NETWORK_ORGANIZATION
from shared.fhir.envelope import FhirMessage

if TYPE_CHECKING:
    # Only the notifier calls out over HTTP (trace_http_client): the referral and telemedicine
    # services, which import this module too, do not load an HTTP client (httpx also brings
    # its command line's libraries) at every start.
    import httpx

REFERRAL_ID = "fasttrack.referral.id"
HOSPITAL_IDS = "fasttrack.hospital.ids"
# A FHIR id (http://hl7.org/fhir/R4B/datatypes.html#id): what a referral or Organization id is.
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_MAX_HOSPITALS = 8
_BAGGAGE = W3CBaggagePropagator()
_TRACEPARENT = TraceContextTextMapPropagator()
_TRACE_HEADERS = ("traceparent", "tracestate")


@dataclass(frozen=True)
class ReferralIds:
    """The referral a piece of work is about and the hospitals taking part (sorted, unique)."""

    referral_id: str | None = None
    hospitals: tuple[str, ...] = ()

    @classmethod
    def of(cls, referral_id: str | None, hospitals: Iterable[str | None] = ()) -> ReferralIds:
        """Ids as the messages name them (``Organization/x`` or ``x``); others are left out."""
        return _checked(referral_id, tuple(hospitals))

    def merged(self, other: ReferralIds) -> ReferralIds:
        if not other or other == self:
            return self
        if not self:
            return other
        # Both were checked when made: the union needs no check again.
        hospitals = sorted({*self.hospitals, *other.hospitals})[:_MAX_HOSPITALS]
        return ReferralIds(other.referral_id or self.referral_id, tuple(hospitals))

    def __bool__(self) -> bool:
        return bool(self.referral_id or self.hospitals)

    def attributes(self) -> dict[str, str | tuple[str, ...]]:
        attributes: dict[str, str | tuple[str, ...]] = {}
        if self.referral_id:
            attributes[REFERRAL_ID] = self.referral_id
        if self.hospitals:
            attributes[HOSPITAL_IDS] = self.hospitals
        return attributes

    def in_baggage(self, parent: Context | None = None) -> Context:
        ctx = parent if parent is not None else context.get_current()
        if self.referral_id:
            ctx = baggage.set_baggage(REFERRAL_ID, self.referral_id, ctx)
        if self.hospitals:
            ctx = baggage.set_baggage(HOSPITAL_IDS, ",".join(self.hospitals), ctx)
        return ctx

    @classmethod
    def of_message(cls, message: FhirMessage, *, key: str | None = None) -> ReferralIds:
        """A message's: the referral is its record's ``key`` (the network keys every record by
        its referral: shared.messaging.outbox.add_to_outbox), else the Task it focuses on (a
        hospital's request over HTTP); the hospitals are its sender and receivers."""
        task = next((focus for focus in message.focus if focus.startswith("Task/")), None)
        return cls.of(key or task, (message.sender, *message.destinations))

    @classmethod
    def from_baggage(cls, ctx: Context | None = None) -> ReferralIds:
        referral = baggage.get_baggage(REFERRAL_ID, ctx)
        hospitals = baggage.get_baggage(HOSPITAL_IDS, ctx)
        return cls.of(
            referral if isinstance(referral, str) else None,
            hospitals.split(",") if isinstance(hospitals, str) else (),
        )

    @classmethod
    def from_headers(cls, headers: Iterable[tuple[str, bytes]]) -> ReferralIds:
        """The ids a Kafka record's ``baggage`` header carries (``headers_for_kafka``)."""
        carried = None
        for name, value in headers:
            if name == "baggage":
                carried = value  # the last one, as a carrier of the headers would hold it
        return cls() if carried is None else _ids_in_baggage(carried)

    @classmethod
    def from_span(cls, span: trace.Span) -> ReferralIds:
        """The ids a span of this process carries (nothing for a remote or non-recording one)."""
        attributes = span.attributes if isinstance(span, ReadableSpan) else None
        if not attributes:
            return cls()
        referral = attributes.get(REFERRAL_ID)
        hospitals = attributes.get(HOSPITAL_IDS)
        return cls.of(
            referral if isinstance(referral, str) else None,
            hospitals if isinstance(hospitals, tuple) else (),
        )


# The records of one referral carry the same baggage (its ids, ``relayed_trace_headers``): each
# distinct header is parsed once per process, not at every record read. Bounded, as ``_checked``.
@functools.lru_cache(maxsize=4096)
def _ids_in_baggage(header: bytes) -> ReferralIds:
    return _ids_in_baggage_text(header.decode(errors="replace"))


# The same for a stored trace context's (an outbox row's, a delivery's): a referral's rows and
# deliveries carry the same ids.
@functools.lru_cache(maxsize=4096)
def _ids_in_baggage_text(header: str) -> ReferralIds:
    return ReferralIds.from_baggage(_BAGGAGE.extract({"baggage": header}, Context()))


def _carried_ids(carrier: Mapping[str, str]) -> ReferralIds:
    """The referral's ids in a stored trace context's ``baggage`` (none when it has none)."""
    carried = carrier.get("baggage")
    return _ids_in_baggage_text(carried) if carried else ReferralIds()


def stored_trace_context(ids: ReferralIds | None = None) -> dict[str, str]:
    """The current trace as a carrier to store with work that goes on later (an outbox row, a
    queued delivery): its ``traceparent`` and, as ``baggage``, the referral's ids (the current
    baggage's merged with ``ids``). Only those two keys: whatever else a caller's ``baggage``
    header held is not stored. The ids' encoding is made once per distinct ids and process."""
    carrier: dict[str, str] = {}
    _TRACEPARENT.inject(carrier)
    merged = ReferralIds.from_baggage().merged(ids or ReferralIds())
    if merged:
        carrier.update(_baggage_of(merged))
    return carrier


def carried_context(carrier: Mapping[str, str], parent: Context | None = None) -> Context:
    """The context a stored trace context names (``stored_trace_context``): the parent span its
    ``traceparent`` names and the referral's ids of its ``baggage``, on ``parent`` (else a new
    context). What ``propagate.extract`` made, save that only the two keys read are kept and
    that each distinct ``baggage`` is parsed once per process (W3C baggage parsing was a few
    percent of the notifier's samples: a delivery resumed its stored context every attempt)."""
    resumed = _TRACEPARENT.extract(carrier, parent if parent is not None else Context())
    ids = _carried_ids(carrier)
    return ids.in_baggage(resumed) if ids else resumed


def record_context(record_headers: Iterable[tuple[str, bytes]]) -> Context:
    """The context a Kafka record carries (``carried_context`` of its headers): the parent its
    ``traceparent`` names and the referral's ids of its ``baggage``, read from the bytes."""
    trace_headers: dict[str, str] = {}
    carried: bytes | None = None
    for name, value in record_headers:  # the last of each, as a carrier of the headers holds
        if name in _TRACE_HEADERS:
            trace_headers[name] = value.decode(errors="replace")
        elif name == "baggage":
            carried = value
    resumed = _TRACEPARENT.extract(trace_headers, Context()) if trace_headers else Context()
    ids = _ids_in_baggage(carried) if carried is not None else ReferralIds()
    return ids.in_baggage(resumed) if ids else resumed


def relayed_trace_headers(stored: Mapping[str, str]) -> dict[str, str]:
    """The trace headers of a Kafka record relayed from an outbox row, from the row's stored
    trace context (``stored_trace_context``): its ``traceparent`` (and ``tracestate``) as
    stored, naming the span that wrote the row, which the next service's handling continues;
    and the referral's ids as ``baggage``, re-encoded (only the two keys, whatever a row
    written before held), each distinct header read and written once per process. No
    propagator runs per record."""
    relayed = {name: stored[name] for name in _TRACE_HEADERS if stored.get(name)}
    ids = _carried_ids(stored)
    if ids:
        relayed.update(_baggage_of(ids))
    return relayed


# A referral's records (its request, its pages, its steps) carry the same ids: each distinct
# set is encoded once per process, not at every record relayed. Bounded, as ``_checked``.
@functools.lru_cache(maxsize=4096)
def _baggage_of(ids: ReferralIds) -> dict[str, str]:
    headers: dict[str, str] = {}
    _BAGGAGE.inject(headers, ids.in_baggage(context.Context()))
    return headers


def _bare_id(reference: str) -> str:
    return reference.rsplit("/", 1)[-1]


# Every span that starts, every message written and every delivery reads the ids of its trace
# again (from the baggage, the parent span, the message): the same few referrals' at a time, so
# each distinct reading is checked once. Bounded: a reading is a referral id and a few hospitals.
@functools.lru_cache(maxsize=4096)
def _checked(referral_id: str | None, hospitals: tuple[str | None, ...]) -> ReferralIds:
    # The network itself (the sender of its own events) is no hospital.
    named = {_bare_id(h) for h in hospitals if h and h != NETWORK_ORGANIZATION}
    referral = _bare_id(referral_id) if referral_id else None
    return ReferralIds(
        referral_id=referral if referral and _FHIR_ID.fullmatch(referral) else None,
        hospitals=tuple(sorted(h for h in named if _FHIR_ID.fullmatch(h)))[:_MAX_HOSPITALS],
    )


class ReferralSpanProcessor(SpanProcessor):
    """Gives each new span the referral ids of its parent (local span or baggage), and keeps the
    open spans of each trace so ``about_referral`` can name the ids on spans already started."""

    def __init__(self) -> None:
        # Open spans by trace id, then span id: ``on_end`` is handed a read-only copy of the
        # span (the SDK's ``_readable_span()``), never the span itself, so an ended span is
        # found by its id (found by identity, no span was ever let go: every span of every
        # trace stayed in memory).
        self._open: dict[int, dict[int, Span]] = {}
        self._lock = threading.Lock()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        parent = trace.get_current_span(parent_context)
        ids = ReferralIds.from_baggage(parent_context).merged(ReferralIds.from_span(parent))
        if ids:
            span.set_attributes(ids.attributes())
        started = span.get_span_context()
        with self._lock:
            self._open.setdefault(started.trace_id, {})[started.span_id] = span

    def on_end(self, span: ReadableSpan) -> None:
        context_ = span.get_span_context()
        if context_ is None:
            return
        with self._lock:
            spans = self._open.get(context_.trace_id)
            if spans is None:
                return
            spans.pop(context_.span_id, None)
            if not spans:
                del self._open[context_.trace_id]

    def name_everywhere(self, trace_id: int, ids: ReferralIds) -> None:
        """Puts the ids on every span of the trace that is still open in this process."""
        with self._lock:
            spans = list(self._open.get(trace_id, {}).values())
        for span in spans:
            if not span.is_recording():
                continue
            carried = ReferralIds.from_span(span)
            merged = carried.merged(ids)
            if merged != carried:  # a span that names them already is left as it is
                span.set_attributes(merged.attributes())

    def shutdown(self) -> None:
        with self._lock:
            self._open.clear()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


_processors: list[ReferralSpanProcessor] = []


def register(processor: ReferralSpanProcessor) -> None:
    """The process's processor (one per tracer provider; tests build several)."""
    _processors.append(processor)


def unregister(processor: ReferralSpanProcessor) -> None:
    with contextlib.suppress(ValueError):
        _processors.remove(processor)


def name_trace(ids: ReferralIds) -> ReferralIds:
    """Puts the ids on the spans open in the current trace (merged with those it carries);
    returns the merged ids."""
    current = trace.get_current_span()
    merged = ReferralIds.from_baggage().merged(ReferralIds.from_span(current)).merged(ids)
    if merged:
        trace_id = current.get_span_context().trace_id
        for processor in list(_processors):
            processor.name_everywhere(trace_id, merged)
    return merged


@contextlib.contextmanager
def about_referral(ids: ReferralIds) -> Iterator[ReferralIds]:
    """The work inside is about this referral: the spans open in its trace and every span and
    message that follows carry the ids (merged with those the trace already carries)."""
    merged = name_trace(ids)
    token = context.attach(merged.in_baggage())
    try:
        yield merged
    finally:
        context.detach(token)


def resumed(carrier: Mapping[str, str], ids: ReferralIds) -> Context:
    """The context to resume stored work in (a delivery, whose trace context was written when
    it was queued): the stored parent span and baggage with ``ids`` merged in, so every span it
    starts names them. Nothing of its trace is open in this process to re-name, so no span is
    looked at (``about_referral`` looks at every open one)."""
    parent = _TRACEPARENT.extract(carrier, Context())
    return _carried_ids(carrier).merged(ids).in_baggage(parent)


@contextlib.contextmanager
def without_baggage() -> Iterator[None]:
    """Calls to third parties (LINE, SMS gateways, hospitals' webhooks) carry ``traceparent``
    but not our baggage: the spans keep the ids, the other party is not told them."""
    token = context.attach(baggage.clear())
    try:
        yield
    finally:
        context.detach(token)


# What the span of a delivery says of the call it made (OpenTelemetry's HTTP conventions).
SERVER_ADDRESS = "server.address"
HTTP_STATUS_CODE = "http.response.status_code"


def trace_http_client(client: httpx.AsyncClient) -> None:
    """The calls ``client`` makes to LINE, SMS gateways and webhooks carry ``traceparent`` (the
    other party's systems can join the referral's trace) and are told on the span of the work
    making them (the notifier's delivery span): the host called and the status it answered.
    Only the host: a webhook's path or query may be its secret, a gateway's may name the
    recipient. No span of their own: the delivery span is the call, with the outcome and retry
    events beside it; OpenTelemetry's httpx instrumentation made a second span per call (and
    metrics nobody read), about 6 % of the notifier's CPU."""

    async def before(request: httpx.Request) -> None:
        propagate.inject(request.headers)
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attribute(SERVER_ADDRESS, request.url.host)

    async def after(response: httpx.Response) -> None:
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attribute(HTTP_STATUS_CODE, response.status_code)

    client.event_hooks["request"].append(before)
    client.event_hooks["response"].append(after)
