"""What a webhook delivery costs the notifier's HTTP client, counted: the deliveries share one
keep-alive connection (the process's one client, services/notifier/adapters/http_client.py), a
request searches no module (httpcore imports sniffio on every lock and event it sets up: absent,
the failed import walked sys.path several times per request, about 4 % of the notifier's CPU),
a call makes at most half the Python calls httpx's own transport (httpcore on anyio) made, and
its body is written by orjson (the standard library's bytes, not its encoder). The client keeps
no cookie, and reads no answer for one (httpx's client put every answer through the standard
library's cookie jar, and sent a webhook's cookie back)."""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import statistics
import sys
from collections.abc import AsyncIterator, Sequence
from importlib.machinery import ModuleSpec
from types import FrameType, ModuleType
from typing import Any

import pytest

from services.notifier.adapters.http_client import http_client
from services.notifier.adapters.webhook import WebhookChannel
from services.notifier.domain.model import Channel, Delivery

SENDS = 20


class _Endpoint:
    """A hospital's webhook: answers every request 200 and counts the connections made to it."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests = 0
        self.bodies: list[bytes] = []
        self.heads: list[bytes] = []
        # Header lines each answer carries beyond its length.
        self.answer_headers = b""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                self.heads.append(head)
                self.bodies.append(await reader.readexactly(length))
                self.requests += 1
                writer.write(
                    b"HTTP/1.1 200 OK\r\n" + self.answer_headers + b"Content-Length: 0\r\n\r\n"
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionResetError):
            pass
        finally:
            writer.close()


class _ModuleSearches:
    """Counts the imports that reach the finders (a module not in sys.modules yet, or absent)."""

    def __init__(self) -> None:
        self.searched: list[str] = []

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        self.searched.append(name)
        return None  # the real finders behind it carry on


@pytest.fixture
async def endpoint() -> AsyncIterator[tuple[_Endpoint, str]]:
    webhook = _Endpoint()
    server = await asyncio.start_server(webhook.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield webhook, f"http://127.0.0.1:{port}/hook"
    finally:
        server.close()


def _delivery(n: int) -> Delivery:
    return Delivery(
        id=f"d-{n}",
        request_id=f"req-{n}",
        referral_id="ref",
        recipient="Organization/trang-hospital",
        channel=Channel.WEBHOOK,
        priority="stat",
        body={"text": "ส่งต่อผู้ป่วย stroke", "needs_ack": True, "step": n},
    )


async def test_webhook_deliveries_share_a_connection_and_search_no_module(
    endpoint: tuple[_Endpoint, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    webhook, url = endpoint
    searches = _ModuleSearches()
    encodings = 0
    standard_encoder = json.dumps

    def counted_dumps(*args: Any, **kwargs: Any) -> str:
        nonlocal encodings
        encodings += 1
        return standard_encoder(*args, **kwargs)

    monkeypatch.setattr(json, "dumps", counted_dumps)
    async with http_client(timeout_s=5) as client:
        channel = WebhookChannel(client=client, url=url, secret="s3cret")
        await channel.send(_delivery(0))  # the first one may import what it needs once
        sys.meta_path.insert(0, searches)
        try:
            for n in range(1, SENDS + 1):
                await channel.send(_delivery(n))
        finally:
            sys.meta_path.remove(searches)

    assert webhook.requests == SENDS + 1
    assert webhook.connections == 1
    # Was 4 searches for "sniffio" per request (80 in all) without it installed.
    assert searches.searched == []
    # Was one per delivery (21).
    assert encodings == 0
    # The body as the standard library wrote it: compact, UTF-8.
    assert (
        webhook.bodies[-1]
        == standard_encoder(
            _delivery(SENDS).body, ensure_ascii=False, separators=(",", ":")
        ).encode()
    )


async def test_a_webhook_call_makes_at_most_half_the_python_calls_of_httpx_own_transport(
    endpoint: tuple[_Endpoint, str],
) -> None:
    webhook, url = endpoint
    calls_per_send: list[int] = []
    async with http_client(timeout_s=5) as client:
        channel = WebhookChannel(client=client, url=url, secret="s3cret")
        await channel.send(_delivery(0))  # the connection opened
        for n in range(1, SENDS + 1):
            calls = 0

            def count(_frame: FrameType, event: str, _arg: object) -> None:
                nonlocal calls
                calls += event == "call"

            # Every Python call of this thread while the delivery is sent (the event loop's
            # callbacks for its socket included), the channel's own code too.
            sys.setprofile(count)
            try:
                await channel.send(_delivery(n))
            finally:
                sys.setprofile(None)
            calls_per_send.append(calls)

    assert webhook.requests == SENDS + 1
    # Was 1,503 per send through httpx's own transport (httpcore on anyio); 657 through aiohttp;
    # 505 with no cookie jar and the URL parsed once, not at every call (656 with them).
    # The median: the suite's event loop is shared, and another test's task that runs during
    # one send counts there (the full suite once made one send 902, the others 656-657).
    assert statistics.median(calls_per_send) <= 560, calls_per_send


async def test_a_webhook_cookie_is_neither_read_nor_sent_back(
    endpoint: tuple[_Endpoint, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    webhook, url = endpoint
    webhook.answer_headers = b"Set-Cookie: session=hospital-side; Path=/\r\n"
    reads = 0
    extract_cookies = http.cookiejar.CookieJar.extract_cookies

    def counted_extract(jar: http.cookiejar.CookieJar, response: Any, request: Any) -> None:
        nonlocal reads
        reads += 1
        extract_cookies(jar, response, request)

    monkeypatch.setattr(http.cookiejar.CookieJar, "extract_cookies", counted_extract)
    async with http_client(timeout_s=5) as client:
        channel = WebhookChannel(client=client, url=url, secret="s3cret")
        for n in range(3):
            await channel.send(_delivery(n))

    assert webhook.requests == 3
    # Was sent back from the second call on.
    assert [head for head in webhook.heads if b"\r\ncookie:" in head.lower()] == []
    # Was one read of the standard library's cookie jar per answer (3).
    assert reads == 0
