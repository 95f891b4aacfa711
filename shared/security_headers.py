"""Security headers for pages people open in a browser (OWASP Secure Headers Project).

On every response: ``X-Content-Type-Options: nosniff`` (a file is never run as another type),
``Referrer-Policy: same-origin`` (a page's address, which may hold a referral id, never leaves
for another site) and, when the request came over HTTPS (directly or through a proxy that says
so), ``Strict-Transport-Security``. On the pages under ``page_prefixes`` also a
Content-Security-Policy that allows only the service's own files (no inline script, no inline
style attribute, no other origin, no framing: ``frame-ancestors 'none'``), and
``Cache-Control: no-store`` so a shared ward computer's cache keeps no patient page. The API
docs (Swagger UI) and the AsyncAPI page are left out of the CSP: they run inline script.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "media-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, page_prefixes: Sequence[str] = ("/app/",)) -> None:
        self.app = app
        self.page_prefixes = tuple(page_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_page = str(scope.get("path", "")).startswith(self.page_prefixes)
        over_https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                if over_https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
                if is_page:
                    headers.setdefault("Content-Security-Policy", PAGE_POLICY)
                    headers.setdefault("X-Frame-Options", "DENY")
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)
