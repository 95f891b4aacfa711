"""A service's export of its spans to Zipkin reads nothing from the environment: before, every
export looked for a ``~/.netrc`` and for the proxy variables (``requests``' defaults), in every
service, every few seconds. Counted on exports to a Zipkin stand-in on this machine: lookups per
export 2 (one netrc, one of the proxies) -> 0; the spans still arrive."""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.telemetry import zipkin_exporter


class _Zipkin(BaseHTTPRequestHandler):
    """Takes POST /api/v2/spans as Zipkin does (202) and keeps the span names."""

    received: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.extend(span["name"] for span in json.loads(body))
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


def test_spans_go_to_zipkin_with_no_netrc_or_proxy_lookup(
    zipkin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    exporter = zipkin_exporter(zipkin)
    # Where the exporter's HTTP session (requests') looks them up.
    sessions = sys.modules[type(exporter.session).__module__]
    lookups: Counter[str] = Counter()
    for name in ("get_netrc_auth", "get_environ_proxies"):
        monkeypatch.setattr(sessions, name, _counting(name, lookups, getattr(sessions, name)))
    finished = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(finished))
    for name in ("notifier handle notification-requested", "notifier deliver webhook"):
        provider.get_tracer("test").start_span(name).end()

    as_processors_call_it: SpanExporter = exporter  # they hand it finished (readable) spans
    for _ in range(3):
        as_processors_call_it.export(finished.get_finished_spans())

    # Was 3 of each: one per export.
    assert lookups == Counter()
    assert _Zipkin.received == 3 * [
        "notifier handle notification-requested",
        "notifier deliver webhook",
    ]
    exporter.shutdown()
