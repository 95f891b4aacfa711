"""The hospital's webhook for the benchmark, in a process of its own: the load generator's busy
event loop must not slow down (or time out) the notifier's calls it is measuring.

Answers every POST /notify with 204 and writes ``<referral id> <monotonic seconds>`` to stdout
for each neurologist's page ("Telestroke" in its text). CLOCK_MONOTONIC is one clock for every
process of the machine, so the benchmark compares these times with its own.
Usage: python -m bench.webhook_sink PORT
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]


async def app(
    scope: Scope,
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    arrived = time.monotonic()
    if scope["path"] == "/notify" and scope["method"] == "POST":
        note = json.loads(body or b"{}")
        if "Telestroke" in str(note.get("text", "")):
            sys.stdout.write(f"{note.get('referral')} {arrived}\n")
            sys.stdout.flush()
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
