"""What every service's ``GET /metrics`` says of its HTTP handlers: one histogram, the request
duration, by the labels docs/operations.md lists (route template, method, status code). The
scheme and protocol version FastAPI's telemetry adds are the same on every series of an instance
(Prometheus' ``instance`` label already says which), and no request or response size histogram
is made: read by no dashboard or alert rule, each one multiplied what a scrape carries and what
producing it costs (after the HTTP fuzz test, the referral service's scrape was 3.9 MB, 15,449
samples)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.notifier.bootstrap import create_app as notifier_app
from services.referral.bootstrap import create_app as referral_app
from services.telemedicine.bootstrap import create_app as telemedicine_app
from tests.metrics_scrape import parse

APPS: dict[str, Callable[[], FastAPI]] = {
    "referral": referral_app,
    "telemedicine": telemedicine_app,
    "notifier": notifier_app,
}
DOCUMENTED = {"http_route", "http_request_method", "http_response_status_code"}
# FastAPI's boundaries (14, in seconds) make 15 buckets; with _sum and _count, 17 samples.
SAMPLES_PER_SERIES = 17


@pytest.mark.parametrize("service", sorted(APPS))
def test_the_http_handlers_are_reported_by_route_method_and_status_alone(service: str) -> None:
    client = TestClient(APPS[service]())  # no `with`: the lifespan (connections) never runs
    # Three series: a route answered, a method it refuses, a path no route has.
    for method, path in (("GET", "/docs"), ("DELETE", "/docs"), ("GET", "/no-such-page")):
        client.request(method, path)
    samples = parse(client.get("/metrics").text)

    http = [s for s in samples if s.name.startswith("http_server_")]
    durations = [s for s in http if s.name == "http_server_request_duration_seconds_count"]
    assert {frozenset(s.labels) for s in durations} == {frozenset(DOCUMENTED)}
    series = [s.labels for s in durations]
    assert {
        (x["http_request_method"], x["http_response_status_code"], x["http_route"]) for x in series
    } == {
        ("GET", "200", "/docs"),
        ("DELETE", "405", "/docs"),
        ("GET", "404", ""),  # no route: never the path itself, which can hold ids
    }
    # The duration histogram alone (the requests in flight are a gauge without a route).
    histograms = [s for s in http if s.name != "http_server_active_requests"]
    assert len(histograms) == SAMPLES_PER_SERIES * len(durations)
