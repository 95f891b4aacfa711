"""A notification request's deliveries written with their JSON (each one's body and trace
context) encoded by orjson, not the standard library: standard-library JSON encodings for a
stroke alert's three deliveries 6 -> 0. PostgreSQL stores the same jsonb values (the text is
cast in the statement; spacing is not kept)."""

from __future__ import annotations

import json
from typing import Any, cast

import pytest

from services.notifier.adapters import request_deliveries
from services.notifier.domain.model import Channel, Delivery
from shared.db.pool import Connection


def _delivery(channel: Channel) -> Delivery:
    return Delivery(
        id=f"d-{channel.value}",
        request_id="m-1/cr-1",
        referral_id="ref-1",
        recipient="Organization/hub",
        channel=channel,
        priority="stat",
        body={
            "referral": "ref-1",
            "text": "ส่งต่อผู้ป่วย stroke กำลังเดินทาง",
            "texts": {"th": "ส่งต่อผู้ป่วย stroke", "en": "Stroke referral"},
            "needs_ack": True,
            "escalates": True,
        },
        hospital="hub",
        trace_context={"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"},
    )


def test_a_requests_deliveries_json_is_written_without_the_standard_library(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deliveries = [_delivery(channel) for channel in (Channel.IN_APP, Channel.WEBHOOK, Channel.LINE)]
    encodings: list[Any] = []
    standard = json.dumps

    def counted(value: Any, *args: Any, **kwargs: Any) -> str:
        encodings.append(value)
        return standard(value, *args, **kwargs)

    monkeypatch.setattr(json, "dumps", counted)

    no_connection = cast(Connection, object())  # none is used to build them
    parameters = request_deliveries._deliveries_parameters(no_connection, deliveries, ["hub"], [])

    assert encodings == []  # was 6: a body and a trace context per delivery
    bodies, contexts = parameters[6], parameters[7]
    assert isinstance(bodies, list)
    assert isinstance(contexts, list)
    # The same JSON values as the standard library's text (what jsonb stores).
    assert [json.loads(text) for text in bodies] == [d.body for d in deliveries]
    assert [json.loads(text) for text in contexts] == [d.trace_context for d in deliveries]
