"""In a real browser: the AsyncAPI page at /asyncapi renders the Kafka topics with the web
component the referral service serves itself; the page asks no other host for anything (a
hospital network often has no internet)."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Page, Request, expect

from services.referral.adapters.asyncapi_document import ASYNCAPI_DESCRIPTION
from shared.messaging.topics import HOSPITAL_INBOUND

pytestmark = pytest.mark.browser


async def test_the_asyncapi_page_renders_from_the_service_alone(
    phone: Page, referral_api: httpx.AsyncClient
) -> None:
    base = str(referral_api.base_url).rstrip("/")
    requested: list[str] = []

    def record(request: Request) -> None:
        requested.append(request.url)

    phone.on("request", record)
    await phone.goto(f"{base}/asyncapi")
    # Rendered by the component: the document's description, and the topic hospital systems
    # produce to (in the sidebar, folded away on a phone).
    description = ASYNCAPI_DESCRIPTION.splitlines()[0]
    await expect(phone.get_by_text(description)).to_be_visible(timeout=20_000)
    await expect(phone.locator("#asyncapi")).to_contain_text(HOSPITAL_INBOUND.name)

    origin = urlsplit(base).netloc
    elsewhere = [url for url in requested if urlsplit(url).netloc not in (origin, "")]
    assert elsewhere == []
    assert f"{base}/static/vendor/asyncapi-react-component-3.1.5/index.js" in requested
