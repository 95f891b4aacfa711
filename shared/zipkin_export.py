"""The export of a service's spans to Zipkin (``FT_ZIPKIN_ENDPOINT``): OpenTelemetry's Zipkin
exporter, made cheaper per export. Imported only when Zipkin is configured."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from opentelemetry.exporter.zipkin.json import ZipkinExporter
from opentelemetry.exporter.zipkin.json.v2 import JsonV2Encoder
from opentelemetry.exporter.zipkin.node_endpoint import NodeEndpoint
from opentelemetry.trace import Span


def zipkin_exporter(endpoint: str) -> ZipkinExporter:
    """Zipkin's exporter whose batches are written by orjson, on a session that reads nothing
    from the environment: by default ``requests`` looks for a ``~/.netrc`` and the proxy
    variables on every export. The collector is the platform's own, reached directly; its
    address is the setting, never a proxy's."""
    exporter = ZipkinExporter(endpoint=endpoint)
    # The SDK types the attribute by its first assignment (the v1 encoder); it holds either.
    exporter.encoder = _OrjsonV2Encoder()  # type: ignore[assignment]
    exporter.session.trust_env = False
    return exporter


class _OrjsonV2Encoder(JsonV2Encoder):
    """Zipkin's JSON v2 as the SDK's encoder makes it, the batch written by orjson (the
    standard library's encoder was about half of an export's encoding): UTF-8 bytes, which
    ``requests`` sends as they are."""

    def serialize(self, spans: Sequence[Span], local_endpoint: NodeEndpoint) -> bytes:  # type: ignore[override]
        endpoint = self._encode_local_endpoint(local_endpoint)
        return orjson.dumps([self._encode_span(span, endpoint) for span in spans])
