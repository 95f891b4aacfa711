"""Kafka records, a stand-in broker and a validation counter for tests of the consumer wrapper
that need no broker or database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from pydantic import BaseModel


def kafka_record(
    topic: str,
    value: bytes,
    *,
    key: bytes = b"k",
    headers: Sequence[tuple[str, bytes]] = (),
    offset: int = 0,
) -> ConsumerRecord[bytes, bytes]:
    """A record as aiokafka hands it to a consumer."""
    return ConsumerRecord(
        topic=topic,
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=key,
        value=value,
        checksum=None,
        serialized_key_size=len(key),
        serialized_value_size=len(value),
        headers=list(headers),
    )


class Publications:
    """Stands in for the broker: records what is published where."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, dict[str, str]]] = []

    async def publish(
        self, body: bytes, topic: str, *, key: bytes | None, headers: dict[str, str]
    ) -> None:
        self.sent.append((topic, body, headers))


def count_validations(monkeypatch: pytest.MonkeyPatch, model: type[BaseModel]) -> list[str]:
    """The class name of every ``model_validate`` of ``model`` or a subclass, from now on."""
    seen: list[str] = []
    original = model.model_validate.__func__  # type: ignore[attr-defined]

    def counting(cls: type[BaseModel], *args: Any, **kwargs: Any) -> BaseModel:
        seen.append(cls.__name__)
        result: BaseModel = original(cls, *args, **kwargs)
        return result

    monkeypatch.setattr(model, "model_validate", classmethod(counting))
    return seen
