"""The notifier's HTTP client (httpx over aiohttp) still checks a server's certificate: a webhook
served over TLS with a certificate nobody vouches for is not called (the delivery is retried as
unreachable, no body leaves), as with httpx's own transport."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.notifier.adapters.http_client import http_client
from services.notifier.adapters.webhook import WebhookChannel
from services.notifier.domain.model import Channel, Delivery, TransientDeliveryError


@pytest.fixture
def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A key and a certificate for 127.0.0.1 signed by that key alone."""
    key, certificate = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(certificate)),
        ],
        check=True,
        capture_output=True,
    )
    return key, certificate


@pytest.fixture
async def self_signed_webhook(
    self_signed: tuple[Path, Path],
) -> AsyncIterator[tuple[str, list[bytes]]]:
    """An HTTPS endpoint on loopback whose certificate is its own; keeps what it reads."""
    key, certificate = self_signed
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    received: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            received.append(await reader.read(65536))
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()
        except (ssl.SSLError, ConnectionResetError):
            pass  # the client refused the handshake
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"https://127.0.0.1:{port}/hook", received
    finally:
        server.close()


async def test_a_webhook_whose_certificate_nobody_vouches_for_is_not_called(
    self_signed_webhook: tuple[str, list[bytes]],
) -> None:
    url, received = self_signed_webhook
    delivery = Delivery(
        id="d-tls",
        request_id="req-tls",
        referral_id="ref",
        recipient="Organization/trang-hospital",
        channel=Channel.WEBHOOK,
        priority="stat",
        body={"text": "stroke alert"},
    )
    async with http_client(timeout_s=5) as client:
        with pytest.raises(TransientDeliveryError, match="unreachable: ConnectError"):
            await WebhookChannel(client=client, url=url, secret=None).send(delivery)
    assert not any(b"stroke alert" in data for data in received)
