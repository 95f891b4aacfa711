"""The span file (``FT_TRACE_FILE``: the end-to-end tests read it, and the benchmark counts a
referral's spans in it) is written by orjson, not by the standard library's JSON encoder, which
was most of that exporter's cost: 1-2 % of each service's samples in the benchmark's profile, a
cost of the measurement, not of the system measured. Standard-library encodings per exported
span 1 -> 0; each line reads back as before (Kafka keys as text, tuples as lists, Thai as is)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from shared.settings import PlatformSettings
from shared.telemetry import Telemetry

SPANS = 3


def test_the_span_file_is_written_without_the_standard_json_encoder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = PlatformSettings(environment="test", trace_file=str(tmp_path / "spans.jsonl"))
    telemetry = Telemetry(service_name="notifier", settings=settings)
    encodings: Counter[str] = Counter()
    dumps = json.dumps

    def counting(*args: Any, **kwargs: Any) -> str:
        encodings["json.dumps"] += 1
        return dumps(*args, **kwargs)

    monkeypatch.setattr(json, "dumps", counting)
    tracer = telemetry.tracer("test")
    with tracer.start_as_current_span("notifier handle notification-requested") as parent:
        for n in range(SPANS - 1):
            with tracer.start_as_current_span(f"notifier deliver {n}") as span:
                span.set_attribute("messaging.kafka.message.key", b"referral-1")
                span.set_attribute("fasttrack.hospital.ids", ("sikao-hospital", "trang-hospital"))
                span.set_attribute("fasttrack.referral.hospital", "โรงพยาบาลตรัง")
    telemetry.shutdown()

    assert encodings == Counter()  # was 3: one per span
    lines = Path(settings.trace_file or "").read_text(encoding="utf-8").splitlines()
    spans = {document["name"]: document for document in map(json.loads, lines)}
    assert len(spans) == SPANS
    root_id = f"0x{parent.get_span_context().span_id:016x}"
    delivery = spans["notifier deliver 0"]
    assert delivery["parent_id"] == root_id
    assert delivery["service"] == "notifier"
    assert delivery["kind"] == "SpanKind.INTERNAL"
    assert delivery["attributes"]["messaging.kafka.message.key"] == "referral-1"
    assert delivery["attributes"]["fasttrack.hospital.ids"] == ["sikao-hospital", "trang-hospital"]
    assert delivery["attributes"]["fasttrack.referral.hospital"] == "โรงพยาบาลตรัง"
    assert spans["notifier handle notification-requested"]["parent_id"] is None
