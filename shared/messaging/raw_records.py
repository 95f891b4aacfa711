"""How FastStream hands a record to a service's consumer (``ServiceConsumer``): as aiokafka read
it, its headers read even when they are not UTF-8. Everything that can be wrong with a record is
judged after, by its topic's ``FhirMessageConsumer``, where it can be dead-lettered with a
reason."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import ConsumerRecord
from faststream.message import StreamMessage


async def tolerant_parser(
    record: ConsumerRecord[bytes, bytes],
    original: Callable[[ConsumerRecord[bytes, bytes]], Awaitable[StreamMessage[Any]]],
) -> StreamMessage[Any]:
    """FastStream's own parser, except that a header value that is not UTF-8 (which makes it
    raise before any handler runs) is read with replacement characters."""
    try:
        return await original(record)
    except UnicodeDecodeError:
        readable = [
            (name, value.decode(errors="replace").encode()) for name, value in record.headers
        ]
        return await original(dataclasses.replace(record, headers=readable))


async def raw_record(message: StreamMessage[Any]) -> Any:
    """The record as aiokafka read it, handed to the handler as its one argument: its bytes
    untouched (FastStream's JSON decoding, which fails on JSON nested too deep or an integer too
    long, never runs; ``handle`` judges the body) and no ``Context`` parameter, which FastDepends
    resolves on a worker thread for every record (a thread hand-off per message, 5-10% of a
    consumer's CPU in the profile)."""
    return message.raw_message
