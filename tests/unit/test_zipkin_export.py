"""A service's export of its spans to Zipkin reads nothing from the environment and leaves the
standard library's JSON encoder alone: before, every export looked for a ``~/.netrc`` and for
the proxy variables (``requests``' defaults), and wrote its batch with ``json.dumps``, in every
service, every few seconds. Counted on exports to a Zipkin stand-in on this machine: lookups per
export 2 (one netrc, one of the proxies) -> 0, standard-library encodings 1 -> 0; the spans
arrive as the SDK's own encoder writes them."""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from opentelemetry.exporter.zipkin.json.v2 import JsonV2Encoder
from opentelemetry.exporter.zipkin.node_endpoint import NodeEndpoint
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.zipkin_export import zipkin_exporter


class _Zipkin(BaseHTTPRequestHandler):
    """Takes POST /api/v2/spans as Zipkin does (202) and keeps the spans."""

    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.extend(json.loads(body))
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def zipkin() -> Iterator[str]:
    _Zipkin.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Zipkin)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v2/spans"
    finally:
        server.shutdown()
        server.server_close()


def _counting(name: str, lookups: Counter[str], original: Callable[..., Any]) -> Callable[..., Any]:
    def counted(*args: Any, **kwargs: Any) -> Any:
        lookups[name] += 1
        return original(*args, **kwargs)

    return counted


def test_spans_go_to_zipkin_with_no_netrc_proxy_or_standard_json_work(
    zipkin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    exporter = zipkin_exporter(zipkin)
    # Where the exporter's HTTP session (requests') looks them up.
    sessions = sys.modules[type(exporter.session).__module__]
    finished = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: "notifier"}))
    provider.add_span_processor(SimpleSpanProcessor(finished))
    for name in ("notifier handle notification-requested", "notifier deliver webhook"):
        span = provider.get_tracer("test").start_span(name)
        span.set_attribute("fasttrack.referral.hospital", "โรงพยาบาลตรัง")
        span.end()
    spans = finished.get_finished_spans()
    local_node = NodeEndpoint()
    local_node.service_name = "notifier"
    # What the SDK's own encoder writes for this batch.
    expected = json.loads(JsonV2Encoder().serialize(spans, local_node))  # type: ignore[arg-type]
    lookups: Counter[str] = Counter()
    for name in ("get_netrc_auth", "get_environ_proxies"):
        monkeypatch.setattr(sessions, name, _counting(name, lookups, getattr(sessions, name)))
    monkeypatch.setattr(json, "dumps", _counting("json.dumps", lookups, json.dumps))

    as_processors_call_it: SpanExporter = exporter  # they hand it finished (readable) spans
    for _ in range(3):
        as_processors_call_it.export(spans)

    # Was 3 of each: one per export.
    assert lookups == Counter()
    assert _Zipkin.received == 3 * expected
    assert [span["tags"]["fasttrack.referral.hospital"] for span in _Zipkin.received] == 6 * [
        "โรงพยาบาลตรัง"
    ]
    exporter.shutdown()
