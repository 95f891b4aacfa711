"""The web app's pages leave with a Content-Security-Policy that allows only the service's own
files and no framing, every response with nosniff and a same-origin referrer policy, and HSTS
only when the request came over HTTPS."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from shared.security_headers import SecurityHeadersMiddleware


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/app/page", response_class=HTMLResponse)
    def page() -> str:
        return "<p>page</p>"

    @app.get("/fhir/metadata")
    def api() -> dict[str, str]:
        return {"resourceType": "CapabilityStatement"}

    app.add_middleware(SecurityHeadersMiddleware, page_prefixes=("/app/",))
    return app


async def _headers(base_url: str, path: str) -> httpx.Headers:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
        return (await client.get(path)).headers


@pytest.mark.parametrize(
    ("base_url", "path", "page", "https"),
    [
        ("http://testserver", "/app/page", True, False),
        ("https://testserver", "/app/page", True, True),
        ("http://testserver", "/fhir/metadata", False, False),
        ("https://testserver", "/fhir/metadata", False, True),
    ],
)
async def test_security_headers_by_kind_of_response_and_scheme(
    base_url: str, path: str, page: bool, https: bool
) -> None:
    headers = await _headers(base_url, path)
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert ("strict-transport-security" in headers) is https
    policy = headers.get("content-security-policy")
    if page:
        assert policy is not None
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe-inline" not in policy
        assert headers["cache-control"] == "no-store"
    else:
        assert policy is None
