"""The HTTP edge's input limits, before any route runs (ASGI middleware).

- A body over ``max_body_bytes`` is refused with 413 as soon as its declared length or the bytes
  read so far say so: nothing larger is ever buffered.
- A path or query parameter holding a control character (``%00`` and the rest of C0, DEL) is
  refused with 400: no identifier or search value has one, and PostgreSQL cannot store NUL.

- Request headers larger than ``max_header_bytes`` in all are refused with 431 (the HTTP
  parser's own limits are far larger, or apply only to headers split across reads).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.web import outcome_response

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class InputLimitsMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_header_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers") or []
        if sum(len(name) + len(value) + 4 for name, value in headers) > self.max_header_bytes:
            response = outcome_response(
                431, f"Request headers larger than {self.max_header_bytes} bytes", code="too-costly"
            )
            await response(scope, receive, send)
            return
        problem = _url_problem(scope)
        if problem is not None:
            diagnostics, expression = problem
            await outcome_response(400, diagnostics, code="value", expression=expression)(
                scope, receive, send
            )
            return
        declared = dict(headers).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(scope, receive, send)
            return
        if scope.get("method") not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = outcome_response(
            413,
            f"The request body is larger than {self.max_body_bytes} bytes",
            code="too-costly",
        )
        await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, then whatever else the client sends (a disconnect)."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _url_problem(scope: Scope) -> tuple[str, str | None] | None:
    path: Any = scope.get("path", "")
    if _CONTROL.search(str(path)):
        return "The URL path holds a control character", None
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True, errors="replace"):
        if _CONTROL.search(name) or _CONTROL.search(value):
            # The name without its control characters: an OperationOutcome cannot carry them.
            printable = _CONTROL.sub("", name)[:60].strip()
            return f"Search parameter {name[:60]!r} holds a control character", printable or None
    return None
