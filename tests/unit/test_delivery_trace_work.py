"""What tracing a webhook delivery costs the notifier, counted: one span (the delivery, its call
out told on it), no span written twice, and a referral's ids checked once in the process, not
again at every span, every merge and every delivery (``shared/tracing.py``). What the operator
reads stays: the delivery span names the referral and its hospitals, and the hospital's system
receives a ``traceparent`` naming that span, without our baggage."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry import propagate
from opentelemetry.sdk.trace import Span, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.notifier.adapters import repository
from services.notifier.adapters.webhook import WebhookChannel
from services.notifier.domain.contacts import ContactBook
from services.notifier.domain.model import Channel, Delivery, RetryPolicy
from services.notifier.workers.dispatcher import DeliveryDispatcher
from shared import tracing
from shared.tracing import HOSPITAL_IDS, REFERRAL_ID, ReferralIds, about_referral
from tests.support import eventually
from tests.unit.test_dispatcher_bound import _Pool

DELIVERIES = 4


class _CountedPattern:
    """``tracing._FHIR_ID`` counting the ids it checks."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.checked = 0

    def fullmatch(self, text: str) -> re.Match[str] | None:
        self.checked += 1
        return self.pattern.fullmatch(text)


@pytest.fixture
def provider() -> Iterator[TracerProvider]:
    provider = TracerProvider()
    processor = tracing.ReferralSpanProcessor()
    provider.add_span_processor(processor)
    tracing.register(processor)
    yield provider
    tracing.unregister(processor)
    provider.shutdown()


def _queued(provider: TracerProvider, referral_id: str) -> list[Delivery]:
    """Webhook copies of a referral's pages, queued as the notifier's consumer queues them: in
    the handling's trace, with its referral's ids (both hospitals) in the stored baggage."""
    stored: dict[str, str] = {}
    ids = ReferralIds.of(referral_id, ["sikao-hospital", "trang-hospital"])
    with (
        provider.get_tracer("test").start_as_current_span("notifier handle"),
        about_referral(ids),
    ):
        propagate.inject(stored)
    return [
        Delivery(
            id=f"d-{referral_id}-{n}",
            request_id=f"req-{n}",
            referral_id=referral_id,
            recipient="Organization/trang-hospital",
            channel=Channel.WEBHOOK,
            priority="stat",
            body={"referral": referral_id, "text": "stroke alert"},
            trace_context=stored,
            hospital="trang-hospital",
            attempts=1,
        )
        for n in range(DELIVERIES)
    ]


async def test_a_webhook_delivery_is_one_span_written_once_with_the_ids_checked_once(
    provider: TracerProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    exported = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    referral_id = "ref-trace-work"
    backlog = _queued(provider, referral_id)
    exported.clear()

    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    tracing.trace_http_client(client)

    async def claim_due(_: Any, *, limit: int, lease_s: float) -> list[Delivery]:
        taken = backlog[:1]  # one at a time: each delivery's own work is counted
        del backlog[:1]
        return taken

    async def mark_all_sent_and_tell(*_: Any, **__: Any) -> int:
        return 1

    monkeypatch.setattr(repository, "claim_due", claim_due)
    monkeypatch.setattr(repository, "mark_all_sent_and_tell", mark_all_sent_and_tell)
    checks = _CountedPattern(tracing._FHIR_ID)
    monkeypatch.setattr(tracing, "_FHIR_ID", checks)
    # (trace, span) of each write: the test process may serve other work meanwhile (the
    # session's services still call its webhook receiver), so only the deliveries' traces count.
    written: list[tuple[int, str]] = []
    set_attributes = Span.set_attributes

    def counted_set_attributes(span: Span, attributes: Any) -> None:
        written.append((span.context.trace_id, span.name))
        set_attributes(span, attributes)

    monkeypatch.setattr(Span, "set_attributes", counted_set_attributes)

    dispatcher = DeliveryDispatcher(
        pool=_Pool(),  # type: ignore[arg-type]
        channels={
            Channel.WEBHOOK: WebhookChannel(client=client, url="https://h.example/x", secret=None)
        },
        contacts=ContactBook(),
        retry_policy=RetryPolicy(max_attempts=3, base_s=0.1, cap_s=1),
        tracer=provider.get_tracer("fasttrack.notifier"),
        source_endpoint="urn:test",
        lease_s=30,
        poll_interval_s=0.01,
        send_timeout_s=5,
    )
    dispatcher.start()
    try:

        async def all_sent() -> bool:
            return len(exported.get_finished_spans()) == DELIVERIES

        await eventually(all_sent, timeout=10, what="every delivery's span")
        await asyncio.sleep(0.1)
    finally:
        await dispatcher.stop()
        await client.aclose()

    spans = exported.get_finished_spans()
    # One span per delivery (was two: the httpx instrumentation's client span inside it).
    assert [span.name for span in spans] == ["notifier deliver webhook"] * DELIVERIES
    # Its ids written once, as it starts (about_referral wrote them again on every span of the
    # trace open in the process).
    traces = {span.context.trace_id for span in spans}
    assert [name for trace_id, name in written if trace_id in traces] == [
        "notifier deliver webhook"
    ] * DELIVERIES
    # The referral's ids were checked when the request was handled; of the deliveries' only
    # their own reading (the referral and the hospital reached) is new, checked once in the
    # process (each delivery checked 23: from the baggage, the span, every merge); and the
    # outcome event's (the referral, its sender and receivers), once too, now made before the
    # settlement's statement (the stand-in statement here) rather than inside it.
    assert checks.checked == 3
    for span, request in zip(spans, seen, strict=True):
        attributes = dict(span.attributes or {})
        assert attributes[REFERRAL_ID] == referral_id
        assert attributes[HOSPITAL_IDS] == ("sikao-hospital", "trang-hospital")
        _, trace_id, parent_id, _ = request.headers["traceparent"].split("-")
        context_ = span.get_span_context()
        assert context_ is not None
        assert (trace_id, parent_id) == (f"{context_.trace_id:032x}", f"{context_.span_id:016x}")
        assert "baggage" not in request.headers
