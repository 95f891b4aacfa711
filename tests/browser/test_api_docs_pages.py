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


@pytest.mark.parametrize("service", sorted(SERVICE_PORTS))
async def test_swagger_ui_renders_the_api_with_no_internet(
    phone: Page, services: ServiceProcesses, service: str
) -> None:
    refused = await offline(phone)
    base = f"http://127.0.0.1:{SERVICE_PORTS[service]}"
    await phone.goto(f"{base}/docs")
    # Rendered by Swagger UI from the service's own OpenAPI document: the title, the operations.
    await expect(phone.locator(".swagger-ui .info .title")).to_be_visible(timeout=30_000)
    await expect(phone.locator(".opblock").first).to_be_visible()
    assert refused == []


@pytest.mark.parametrize("service", sorted(SERVICE_PORTS))
async def test_redoc_renders_the_api_with_no_internet(
    phone: Page, services: ServiceProcesses, service: str
) -> None:
    refused = await offline(phone)
    base = f"http://127.0.0.1:{SERVICE_PORTS[service]}"
    await phone.goto(f"{base}/redoc")
    await expect(phone.locator("redoc h1").first).to_be_visible(timeout=30_000)
    await expect(phone.locator("redoc [data-section-id]").first).to_be_attached()
    assert refused == []
