"""What a service logs: JSON lines with the trace ids, and not every outgoing HTTP call."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from shared.telemetry import configure_logging


@pytest.fixture
def service_log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging(service_name="notifier", stream=stream)
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)


def test_an_outgoing_call_is_not_logged_with_its_url(service_log: io.StringIO) -> None:
    # What httpx logs for every request: a webhook's path may be its secret.
    logging.getLogger("httpx").info(
        'HTTP Request: POST https://hooks.example/T0KEN-in-the-path "HTTP/1.1 200 OK"'
    )
    assert "T0KEN" not in service_log.getvalue()
    assert service_log.getvalue() == ""


def test_a_service_log_line_is_json_naming_the_service(service_log: io.StringIO) -> None:
    logging.getLogger("shared.startup").warning("connected: database")
    line = json.loads(service_log.getvalue())
    assert (line["level"], line["service"], line["message"]) == (
        "WARNING",
        "notifier",
        "connected: database",
    )
