"""A fake LINE Messaging API (push) for tests on loopback, and a webhook signer.

`line_api(state)` implements `POST /v2/bot/message/push` as LINE documents it: Bearer token
(401 otherwise), `X-Line-Retry-Key` a UUID when present (400 otherwise), a body of `to` and 1..5
message objects (400 otherwise), 200 with `sentMessages` on success, and 409 `{"message": "The
retry key is already accepted"}` (with `X-Line-Accepted-Request-Id`) for a retry key it has
already accepted. Error bodies are LINE's `{"message", "details"?}`.

Scripting: `fail_next` holds statuses answered (in order) instead of processing the next
requests; a scripted 429 carries `Retry-After: retry_after` when set; a scripted failure does
not consume the retry key (the request was not executed). While `hang` is an Event that is not
set, requests (body already received) wait for it, then go on as usual: a client that timed out
meanwhile finds its push accepted, as with the real API.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

MAX_MESSAGES = 5

_SCRIPTED_MESSAGES = {
    429: "The API rate limit has been exceeded. Try again later.",
    500: "An error occurred in the server.",
}


@dataclass(frozen=True)
class AcceptedPush:
    retry_key: str | None
    to: str
    messages: list[dict[str, Any]]
    request_id: str
    # The W3C trace context the caller sent (None without one).
    traceparent: str | None = None


@dataclass
class FakeLineState:
    """What the fake accepted, and how it should misbehave next."""

    channel_access_token: str
    pushes: list[AcceptedPush] = field(default_factory=list)
    requests: int = 0
    fail_next: list[int] = field(default_factory=list)
    retry_after: float | None = None
    hang: asyncio.Event | None = None
    accepted_keys: dict[str, str] = field(default_factory=dict)  # retry key -> request id

    def reset(self) -> None:
        self.pushes.clear()
        self.requests = 0
        self.fail_next.clear()
        self.retry_after = None
        self.hang = None
        self.accepted_keys.clear()


def line_api(state: FakeLineState) -> FastAPI:
    app = FastAPI()

    @app.post("/v2/bot/message/push")
    async def push(request: Request) -> JSONResponse:
        state.requests += 1
        raw = await request.body()
        if state.hang is not None:
            await state.hang.wait()
        request_id = str(uuid.uuid4())
        if state.fail_next:
            status = state.fail_next.pop(0)
            headers = {"X-Line-Request-Id": request_id}
            if status == 429 and state.retry_after is not None:
                headers["Retry-After"] = f"{state.retry_after:g}"
            return _error(status, _SCRIPTED_MESSAGES.get(status, "Scripted failure"), headers)
        expected = f"Bearer {state.channel_access_token}".encode()
        if not hmac.compare_digest(request.headers.get("authorization", "").encode(), expected):
            return _error(
                401,
                "Authentication failed. Confirm that the access token in the authorization "
                "header is valid.",
            )
        retry_key = request.headers.get("x-line-retry-key")
        if retry_key is not None:
            try:
                uuid.UUID(retry_key)
            except ValueError:
                return _error(400, "The value for the 'X-Line-Retry-Key' header is invalid")
            if retry_key in state.accepted_keys:
                return _error(
                    409,
                    "The retry key is already accepted",
                    {"X-Line-Accepted-Request-Id": state.accepted_keys[retry_key]},
                )
        problems = _problems(raw)
        if problems:
            return JSONResponse(
                {
                    "message": f"The request body has {len(problems)} error(s)",
                    "details": [
                        {"message": message, "property": prop} for prop, message in problems
                    ],
                },
                status_code=400,
            )
        payload = json.loads(raw)
        state.pushes.append(
            AcceptedPush(
                retry_key=retry_key,
                to=payload["to"],
                messages=payload["messages"],
                request_id=request_id,
                traceparent=request.headers.get("traceparent"),
            )
        )
        if retry_key is not None:
            state.accepted_keys[retry_key] = request_id
        return JSONResponse(
            {
                "sentMessages": [
                    {"id": str(secrets.randbelow(10**18)), "quoteToken": secrets.token_urlsafe(24)}
                    for _ in payload["messages"]
                ]
            },
            headers={"X-Line-Request-Id": request_id},
        )

    return app


def sign(body: bytes, secret: str) -> str:
    """The `X-Line-Signature` LINE would send with `body`: base64(HMAC-SHA256(secret, body))."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _problems(raw: bytes) -> list[tuple[str, str]]:
    """(property, message) for each way the body breaks the push contract."""
    try:
        payload = json.loads(raw)
    except ValueError:
        return [("", "The request body could not be parsed as JSON")]
    if not isinstance(payload, dict):
        return [("", "The request body must be a JSON object")]
    problems: list[tuple[str, str]] = []
    to = payload.get("to")
    if not isinstance(to, str) or not to:
        problems.append(("to", "Must be specified"))
    messages = payload.get("messages")
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        problems.append(("messages", f"Size must be between 1 and {MAX_MESSAGES}"))
        return problems
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            problems.append((f"{where}.type", "Must be specified"))
            continue
        if message["type"] == "text" and not message.get("text"):
            problems.append((f"{where}.text", "Must be specified"))
        if message["type"] == "flex":
            alt_text = message.get("altText")
            if not isinstance(alt_text, str) or not 1 <= len(alt_text) <= 1500:
                problems.append((f"{where}.altText", "Length must be between 1 and 1500"))
            contents = message.get("contents")
            if not isinstance(contents, dict) or contents.get("type") not in (
                "bubble",
                "carousel",
            ):
                problems.append((f"{where}.contents", "Must be a bubble or a carousel"))
    return problems


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status, headers=headers)
