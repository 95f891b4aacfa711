"""Reading a text/event-stream response as a browser's EventSource would (the notifier's live
feed and the web app's page stream)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class Event:
    kind: str
    id: str
    data: dict[str, Any]


class EventStream:
    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.aiter_lines()
        self.connected = False

    async def next_matching(
        self, accept: Callable[[Event], bool], *, within_s: float = 30
    ) -> Event:
        fields: dict[str, str] = {}
        async with asyncio.timeout(within_s):
            async for line in self.lines:
                if line.startswith(":"):
                    self.connected = True
                    continue
                if line:
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
                    continue
                if "data" in fields:
                    event = Event(fields.get("event", "message"), fields.get("id", ""), {})
                    event.data = json.loads(fields["data"])
                    if accept(event):
                        return event
                fields = {}
        raise AssertionError("the stream ended")

    async def wait_connected(self) -> None:
        async with asyncio.timeout(10):
            async for line in self.lines:
                if line.startswith(":"):
                    self.connected = True
                    return
