"""The notifier's one HTTP client for hospitals' webhooks, LINE and SMS gateways: httpx's API
(what the channel adapters, their error classification and the ``traceparent`` hook are written
against) over aiohttp's connections. httpx's own transport (httpcore on anyio) made about 1,200
Python calls per webhook call, and was about a fifth of the notifier's CPU; through aiohttp a
call makes about half as many (tests/unit/test_webhook_client_work.py counts them).

What stays as httpx had it: each call's connect and read timeouts, TLS verified against the
same certificates (httpx's default context), one pool of keep-alive connections per process,
redirects not followed, and a proxy named in the environment (httpx mounts its own transport
for those). No cookies are kept (httpx's client kept a hospital's Set-Cookie and sent it back:
no endpoint of ours needs one, and reading every answer for them, through the standard
library's cookie jar, was about 3 % of the notifier's CPU). A failure comes out as httpx's
exception of the same kind (a timeout as a ``TimeoutException``, anything else on the way as a
``TransportError``), which is what the adapters classify as worth retrying.

Written here rather than taken from httpx-aiohttp (the small transport package of that name):
its 0.2 maps aiohttp's errors by their base classes, so a refused connection or an unknown host
comes out as ``ConnectTimeout`` (checked 2026-12-01), and a delivery's failure would be told as a
timeout that was none."""

from __future__ import annotations

import aiohttp
import httpx

# httpx's default pool: at most 100 connections, idle ones closed after 5 s.
_MAX_CONNECTIONS = 100
_KEEPALIVE_S = 5.0


def http_client(*, timeout_s: float) -> httpx.AsyncClient:
    """The process's client (services/notifier/bootstrap.py), every timeout ``timeout_s``."""
    return _CookielessClient(timeout=timeout_s, transport=AiohttpTransport())


class _NoCookies(httpx.Cookies):
    """A jar that takes nothing from an answer: always empty, so no request carries one."""

    def extract_cookies(self, response: httpx.Response) -> None:
        pass


class _CookielessClient(httpx.AsyncClient):
    """httpx's client with no cookie jar: it reads no answer for cookies (the standard
    library's jar, a ``urllib`` request built per answer) and merges none into a request."""

    def __init__(self, *, timeout: float, transport: httpx.AsyncBaseTransport) -> None:
        super().__init__(timeout=timeout, transport=transport)
        self._no_cookies = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        raise TypeError("the notifier's HTTP client keeps no cookies")


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Sends httpx's requests with an aiohttp session (made on first use: it belongs to the
    running event loop)."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def _opened(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    ssl=httpx.create_ssl_context(),
                    limit=_MAX_CONNECTIONS,
                    keepalive_timeout=_KEEPALIVE_S,
                ),
                cookie_jar=aiohttp.DummyCookieJar(),
                # httpx decodes the body (it reads Content-Encoding itself).
                auto_decompress=False,
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        body = await request.aread()
        try:
            async with self._opened().request(
                request.method,
                str(request.url),
                headers=request.headers.multi_items(),
                data=body or None,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=timeouts.get("pool"),
                    sock_connect=timeouts.get("connect"),
                    sock_read=timeouts.get("read"),
                ),
            ) as answer:
                content = await answer.read()
        except (TimeoutError, aiohttp.ClientError) as error:
            raise _as_httpx(error) from error
        return httpx.Response(
            answer.status,
            headers=answer.raw_headers,
            content=content,
            request=request,
            extensions={
                "http_version": b"HTTP/1.1",
                "reason_phrase": (answer.reason or "").encode(),
            },
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _as_httpx(error: TimeoutError | aiohttp.ClientError) -> httpx.TransportError:
    """The httpx exception httpx's own transport raises for the same failure."""
    message = str(error) or type(error).__name__
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message)
    if isinstance(error, TimeoutError):  # a read timeout (aiohttp's are these too)
        return httpx.ReadTimeout(message)
    if isinstance(error, aiohttp.ClientConnectorError):  # refused, no such host, bad certificate
        return httpx.ConnectError(message)
    if isinstance(error, aiohttp.InvalidURL):
        return httpx.UnsupportedProtocol(message)
    if isinstance(error, aiohttp.ServerDisconnectedError | aiohttp.ClientResponseError):
        return httpx.RemoteProtocolError(message)
    if isinstance(error, aiohttp.ClientPayloadError | aiohttp.ClientOSError):
        return httpx.ReadError(message)
    return httpx.TransportError(message)
