"""Fake SMS gateways for tests on loopback: the generic contract and the ThaiBulkSMS API v2.

Each app checks credentials, records what it accepted in a `FakeSmsGateway`, and can be
scripted: `fail_next` holds status codes to answer (in order) instead of processing the next
requests, `retry_after` is sent as `Retry-After` with those failures, `delay_s` holds every
answer back (to provoke client timeouts), and `rejected_numbers` are numbers the ThaiBulkSMS
fake lists in `bad_phone_number_list`. The contracts are the ones described in
`services/notifier/adapters/sms.py`; error names in the ThaiBulkSMS fake are illustrative.
The generic fake also sends delivery reports to a message's `callback_url` (with
`callback_token`): "delivered", unless `undeliverable` lists the number.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


@dataclass
class FakeSmsGateway:
    """What a fake gateway received, and how it should misbehave next."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    fail_next: list[int] = field(default_factory=list)
    retry_after: str | None = None
    delay_s: float = 0.0
    rejected_numbers: set[str] = field(default_factory=set)
    seen_idempotency_keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    undeliverable: set[str] = field(default_factory=set)
    reports: list[tuple[str, int]] = field(default_factory=list)  # (reference, our answer)
    # The W3C trace context each accepted message came with, by its reference.
    traceparents: dict[str, str | None] = field(default_factory=dict)

    def reset(self) -> None:
        self.messages.clear()
        self.requests = 0
        self.fail_next.clear()
        self.retry_after = None
        self.delay_s = 0.0
        self.rejected_numbers.clear()
        self.seen_idempotency_keys.clear()
        self.undeliverable.clear()
        self.reports.clear()
        self.traceparents.clear()

    async def _begin(self) -> JSONResponse | None:
        """Counts the request, waits if asked to, and answers a scripted failure if one is due."""
        self.requests += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if not self.fail_next:
            return None
        status = self.fail_next.pop(0)
        headers = {"Retry-After": self.retry_after} if self.retry_after else None
        return JSONResponse(
            {"error": {"code": status, "name": "SCRIPTED_FAILURE", "description": "scripted"}},
            status_code=status,
            headers=headers,
        )


def create_generic_sms_app(
    gateway: FakeSmsGateway, *, api_key: str, callback_token: str | None = None
) -> FastAPI:
    """`POST /sms`, JSON {to, from, text, reference, callback_url?}, Bearer auth,
    Idempotency-Key required; delivery reports to the callback URL afterwards."""
    app = FastAPI()
    report_tasks: set[asyncio.Task[None]] = set()

    async def report(callback_url: str, message: dict[str, Any]) -> None:
        await asyncio.sleep(0.1)  # the handset answers after the gateway accepted
        undeliverable = message["to"] in gateway.undeliverable
        body = {
            "reference": message["reference"],
            "status": "undelivered" if undeliverable else "delivered",
            **({"reason": "absent subscriber"} if undeliverable else {}),
        }
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.post(
                callback_url, json=body, headers={"Authorization": f"Bearer {callback_token}"}
            )
        gateway.reports.append((message["reference"], answer.status_code))

    @app.post("/sms")
    async def send_sms(request: Request) -> JSONResponse:
        scripted = await gateway._begin()
        if scripted is not None:
            return scripted
        if not _same(request.headers.get("authorization", ""), f"Bearer {api_key}"):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        key = request.headers.get("idempotency-key")
        if not key:
            return JSONResponse({"error": "Idempotency-Key is required"}, status_code=400)
        if key in gateway.seen_idempotency_keys:
            return JSONResponse(gateway.seen_idempotency_keys[key], status_code=200)
        try:
            payload = await request.json()
        except ValueError:
            return JSONResponse({"error": "body must be JSON"}, status_code=400)
        fields = ("to", "from", "text", "reference")
        if not isinstance(payload, dict) or not all(
            isinstance(payload.get(name), str) and payload[name] for name in fields
        ):
            return JSONResponse({"error": f"required: {', '.join(fields)}"}, status_code=422)
        message = {name: payload[name] for name in fields} | {"idempotency_key": key}
        gateway.messages.append(message)
        gateway.traceparents[message["reference"]] = request.headers.get("traceparent")
        callback_url = payload.get("callback_url")
        if isinstance(callback_url, str) and callback_token is not None:
            task = asyncio.create_task(report(callback_url, message))
            report_tasks.add(task)
            task.add_done_callback(report_tasks.discard)
        answer = {"id": secrets.token_hex(8), "status": "queued"}
        gateway.seen_idempotency_keys[key] = answer
        return JSONResponse(answer, status_code=202)

    return app


_THAI_MSISDN = re.compile(r"66[689]\d{8}")


def create_thaibulksms_app(gateway: FakeSmsGateway, *, api_key: str, api_secret: str) -> FastAPI:
    """`POST /sms`, form {msisdn, message, sender, force?}, HTTP Basic auth (key, secret)."""
    app = FastAPI()

    @app.post("/sms")
    async def send_sms(request: Request) -> JSONResponse:
        scripted = await gateway._begin()
        if scripted is not None:
            return scripted
        if not _basic_auth_matches(request.headers.get("authorization", ""), api_key, api_secret):
            return _thaibulksms_error(401, "UNAUTHORIZED", "Invalid API key or secret")
        if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            return _thaibulksms_error(400, "INVALID_CONTENT_TYPE", "Expected a form body")
        form = {
            name: values[0]
            for name, values in parse_qs((await request.body()).decode("utf-8")).items()
        }
        missing = [name for name in ("msisdn", "message", "sender") if not form.get(name)]
        if missing:
            return _thaibulksms_error(400, "INVALID_PARAMETER", f"Missing {', '.join(missing)}")
        force = form.get("force", "standard")
        if force not in ("standard", "corporate"):
            return _thaibulksms_error(400, "INVALID_PARAMETER", "force: standard or corporate")
        msisdn = form["msisdn"]
        if not _THAI_MSISDN.fullmatch(msisdn) or msisdn in gateway.rejected_numbers:
            return JSONResponse(
                {
                    "remaining_credit": 1000 - len(gateway.messages),
                    "total_use_credit": 0,
                    "credit_type": force,
                    "phone_number_list": [],
                    "bad_phone_number_list": [{"number": msisdn, "message": "Invalid number"}],
                },
                status_code=201,
            )
        gateway.messages.append(
            {"msisdn": msisdn, "message": form["message"], "sender": form["sender"]}
            | {"force": force}
        )
        credits = -(-len(form["message"]) // 67) if len(form["message"]) > 70 else 1
        return JSONResponse(
            {
                "remaining_credit": 1000 - len(gateway.messages),
                "total_use_credit": credits,
                "credit_type": force,
                "phone_number_list": [
                    {
                        "number": msisdn,
                        "message_id": secrets.token_urlsafe(16),
                        "used_credit": credits,
                    }
                ],
                "bad_phone_number_list": [],
            },
            status_code=201,
        )

    return app


def _thaibulksms_error(status: int, name: str, description: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": status, "name": name, "description": description}}, status_code=status
    )


def _basic_auth_matches(header: str, username: str, password: str) -> bool:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return _same(decoded, f"{username}:{password}")


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
