"""In a real browser cut off from everything but this machine: each service's API pages (/docs,
Swagger UI; /redoc, ReDoc) render from the service alone."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page, Route, expect

from tests.e2e.harness import SERVICE_PORTS, ServiceProcesses

pytestmark = pytest.mark.browser

LOOPBACK = {"127.0.0.1", "localhost", "[::1]"}


async def offline(page: Page) -> list[str]:
    """Refuses every request to another host, as a hospital network without internet would;
    returns the list the refused URLs are added to."""
    refused: list[str] = []

    async def only_loopback(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOOPBACK or url.startswith(("data:", "blob:")):
            await route.continue_()
        else:
            refused.append(url)
            await route.abort()

    await page.route("**/*", only_loopback)
    return refused


# Each page, and what only its bundle draws from the service's OpenAPI document: the title and
# the first operation.
PAGES = {
    "/docs": (".swagger-ui .info .title", ".swagger-ui .opblock"),
    "/redoc": ("redoc h1", "redoc [data-section-id]"),
}


# Every service's pages, telemedicine's /redoc included: its request bodies' nested models are
# written out (services/telemedicine/entrypoints/deps.py), so ReDoc finds every reference.
CASES = [(service, path) for service in sorted(SERVICE_PORTS) for path in sorted(PAGES)]


@pytest.mark.parametrize(("service", "path"), CASES)
async def test_the_api_pages_render_with_no_internet(
    phone: Page, services: ServiceProcesses, service: str, path: str
) -> None:
    refused = await offline(phone)
    await phone.goto(f"http://127.0.0.1:{SERVICE_PORTS[service]}{path}")
    title, operation = PAGES[path]
    await expect(phone.locator(title).first).to_be_visible(timeout=30_000)
    await expect(phone.locator(operation).first).to_be_attached()
    assert refused == []
