"""A referral's trace, read back from the trace backend's own query API (Zipkin on the test stack),
as an operator's trace UI sees it: one trace across the three services and the calls out."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.e2e.harness import (
    REFERRAL_ID,
    SERVICE_PORTS,
    ServiceProcesses,
    Trace,
    WebhookReceiver,
    intake_trace,
    names,
    post_in_new_trace,
    post_referral_to,
    texts_about,
    traces_of,
)
from tests.fakes.line_server import FakeLineState
from tests.fakes.sms_gateway import FakeSmsGateway
from tests.support import TestStack, as_operator, at_least, eventually, referral_bundle

pytestmark = pytest.mark.e2e

FHIR_JSON = {"Content-Type": "application/fhir+json"}


def services_in(trace: Trace) -> set[str]:
    return {span["localEndpoint"]["serviceName"] for span in trace}


def trace_id_of(traceparent: str | None) -> str | None:
    return traceparent.split("-")[1] if traceparent else None


async def test_one_referral_is_one_trace_across_the_three_services_in_the_trace_backend(
    referral_api: httpx.AsyncClient,
    services: ServiceProcesses,
    webhook: WebhookReceiver,
    stack: TestStack,
) -> None:
    bundle, referral_id, _ = referral_bundle(teleconsult=True)
    response, trace_id = await post_in_new_trace(referral_api, bundle)
    assert response.status_code == 200, response.text
    # Named so an operator reads the path: intake, each Kafka hop's handling, the delivery.
    trace = await intake_trace(
        stack,
        referral_id,
        "referral intake",
        "telemedicine handle referral-requested",
        "notifier handle notification-requested",
        "notifier deliver webhook",
        "referral handle notification-sent",
    )
    assert {span["traceId"] for span in trace} == {trace_id}
    assert services_in(trace) == {"referral", "telemedicine", "notifier"}
    # Every span of the trace names the referral and its two hospitals.
    unnamed = [
        (span["localEndpoint"]["serviceName"], span["name"], span.get("tags", {}).get(REFERRAL_ID))
        for span in trace
        if span.get("tags", {}).get(REFERRAL_ID) != referral_id
    ]
    assert unnamed == []
    hospitals = {json.dumps(["sikao-hospital", "trang-hospital"], separators=(",", ":"))}
    assert {span["tags"]["fasttrack.hospital.ids"] for span in trace} == hospitals
    # The hospital's system got the trace, joined at the notifier's delivery span, which tells
    # the operator the host called and its answer (never the webhook's path: it may be its
    # secret), and not our ids.
    (notice, *_) = await eventually(
        lambda: at_least(webhook.for_referral(referral_id), 1), what="the webhook call"
    )
    _, called_trace, called_from, _ = notice.headers["traceparent"].split("-")
    assert called_trace == trace_id

    async def calling_delivery() -> dict[str, Any] | None:
        (whole,) = [t for t in await traces_of(stack, referral_id) if t[0]["traceId"] == trace_id]
        return next((s for s in whole if s["id"] == called_from), None)

    delivery = await eventually(calling_delivery, what="the delivery span that made the call")
    assert delivery["name"] == "notifier deliver webhook"
    tags = delivery["tags"]
    assert (tags["server.address"], tags["http.response.status_code"]) == ("127.0.0.1", "204")
    assert "/notify" not in json.dumps(tags)
    assert "baggage" not in notice.headers  # the ids stay in our traces
    # The call is no span of its own (it was: a client span inside the delivery span); only the
    # handling of the delivery's outcome, in the referral service, can follow from it.
    whole = await intake_trace(stack, referral_id, "referral handle notification-sent")
    inside = [(s["name"], s.get("kind")) for s in whole if s.get("parentId") == called_from]
    assert all(
        (name, kind) == ("referral handle notification-sent", "CONSUMER") for name, kind in inside
    ), inside


async def test_line_and_sms_gateways_receive_the_referrals_trace_context(
    referral_api: httpx.AsyncClient,
    services: ServiceProcesses,
    line_platform: FakeLineState,
    sms_gateway: FakeSmsGateway,
    stack: TestStack,
) -> None:
    to_line = await post_referral_to(referral_api, "wang-wiset-hospital")
    to_sms = await post_referral_to(referral_api, "kantang-hospital")

    async def pushed() -> list[Any] | None:
        found = [p for p in line_platform.pushes if to_line in json.dumps(p.messages)]
        return found or None

    push = (await eventually(pushed, what="the LINE push"))[0]
    line_trace = await intake_trace(stack, to_line, "notifier deliver line")
    assert trace_id_of(push.traceparent) == line_trace[0]["traceId"]

    texts = await eventually(lambda: texts_about(sms_gateway, to_sms), what="the page")
    sms_trace = await intake_trace(stack, to_sms, "notifier deliver sms")
    assert trace_id_of(sms_gateway.traceparents[texts[0]["reference"]]) == sms_trace[0]["traceId"]


async def test_a_replay_is_a_new_trace_that_names_the_failed_one(
    referral_api: httpx.AsyncClient,
    services: ServiceProcesses,
    webhook: WebhookReceiver,
    stack: TestStack,
) -> None:
    bundle, referral_id, _ = referral_bundle(teleconsult=False)
    webhook.refuse.add(referral_id)
    response = await referral_api.post("/fhir/$process-message", json=bundle, headers=FHIR_JSON)
    assert response.status_code == 200
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{SERVICE_PORTS['notifier']}",
        headers=as_operator(),
        timeout=30,
    ) as notifier:

        async def dead_lettered() -> dict[str, Any] | None:
            letters = (await notifier.get("/dead-letters")).json()
            return next((d for d in letters if d["referral_id"] == referral_id), None)

        letter = await eventually(dead_lettered, what="the dead letter")
        webhook.refuse.discard(referral_id)
        assert (await notifier.post(f"/deliveries/{letter['id']}/replay")).status_code == 200

    original = await intake_trace(stack, referral_id, "notifier deliver webhook")
    failed = next(s for s in original if s["name"] == "notifier deliver webhook")
    # The failure is an event of the delivery's span, with its reason.
    assert any("delivery failed" in a["value"] for a in failed.get("annotations", []))

    async def replay_trace() -> Trace | None:
        for trace in await traces_of(stack, referral_id):
            if {"notifier replay delivery", "notifier deliver webhook"} <= names(trace):
                return trace
        return None

    replayed = await eventually(replay_trace, what="the replay's trace")
    assert replayed[0]["traceId"] != original[0]["traceId"]
    root = next(s for s in replayed if s["name"] == "notifier replay delivery")
    assert root["tags"]["fasttrack.replay.of_trace"] == original[0]["traceId"]

    # The span file keeps the OpenTelemetry link itself (Zipkin's model has no links); its
    # exporter may write a moment after Zipkin's.
    async def links() -> set[str] | None:
        linked = {
            link["trace_id"]
            for span in services.spans("notifier")
            if span["name"] == "notifier replay delivery"
            for link in span["links"]
        }
        return linked or None

    linked = await eventually(links, what="the replay's span in the span file")
    assert f"0x{original[0]['traceId']}" in linked
    delivered = await eventually(
        lambda: at_least(webhook.for_referral(referral_id), 1), what="the replayed delivery"
    )
    assert trace_id_of(delivered[0].headers.get("traceparent")) == replayed[0]["traceId"]


# Before FastStream's own spans were left out, a referral's trace had 45 (three more per Kafka
# hop: create, publish, process). Whole, it had 18 with the outbox relay's publication span per
# record (6 of them, as the benchmark's spans per referral) and has 12 without: a use case or
# hop is one span.
MAX_SPANS_PER_REFERRAL = 12


async def test_a_referrals_trace_has_one_span_per_use_case_and_hop(
    referral_api: httpx.AsyncClient, services: ServiceProcesses, webhook: WebhookReceiver
) -> None:
    bundle, referral_id, _ = referral_bundle(teleconsult=True)
    response, trace_id = await post_in_new_trace(referral_api, bundle)
    assert response.status_code == 200, response.text

    def spans_of_trace() -> list[dict[str, Any]]:
        return [
            span
            for name in SERVICE_PORTS
            for span in services.spans(name)
            if span["context"]["trace_id"] == f"0x{trace_id}"
        ]

    async def whole_trace() -> list[dict[str, Any]] | None:
        # Both pages delivered and their outcomes back at the referral service, the consult's
        # request back there too (the last hops), and every handling's parent written (each
        # service writes its spans in batches).
        spans = spans_of_trace()
        outcomes = [s for s in spans if s["name"] == "referral handle notification-sent"]
        consult = [s for s in spans if s["name"] == "referral handle teleconsult-requested"]
        written = {span["context"]["span_id"] for span in spans}
        parents = {s["parent_id"] for s in spans if s["kind"] == "SpanKind.CONSUMER"}
        return spans if len(outcomes) >= 2 and consult and parents <= written else None

    await eventually(whole_trace, what="the outcomes back, each handling with its parent")
    await eventually(
        lambda: at_least(webhook.for_referral(referral_id), 2), what="both pages delivered"
    )
    spans = spans_of_trace()
    by_id = {span["context"]["span_id"]: span for span in spans}
    described = sorted((s["service"], s["name"], s["kind"]) for s in spans)
    # A Kafka hop is the handling in the next service, whose parent is the use case that wrote
    # the event in the service before: no span between them, neither a library's nor the
    # outbox relay's (its publication span per record was a third of the trace).
    handlings = [s for s in spans if s["kind"] == "SpanKind.CONSUMER"]
    assert handlings, described
    for handling in handlings:
        parent = by_id.get(handling["parent_id"])
        assert parent is not None, (handling["name"], described)
        assert parent["service"] != handling["service"], (handling["name"], parent["name"])
        assert not parent["name"].startswith("outbox publish"), (handling["name"], described)
    assert [s for s in spans if s["kind"] == "SpanKind.PRODUCER"] == [], described
    assert len(spans) <= MAX_SPANS_PER_REFERRAL, described
